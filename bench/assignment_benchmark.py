"""Benchmark of the suggested assignment: 100 engineers x 300 cases, CP-SAT against greedy.

Run: `.venv/bin/python -m bench.assignment_benchmark [--time-limit 30] [--seeds 1 2 3]`.
Writes its table into docs/performance.md (the section between the benchmark's markers).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from pathlib import Path

from services.dispatch.suggestions.domain import UNSTAFFED_PENALTY, cp_sat, greedy, violations
from services.dispatch.suggestions.generated import case_load, roster

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
BEGIN, END = "<!-- assignment-benchmark:begin -->", "<!-- assignment-benchmark:end -->"


def run(seeds: list[int], engineers: int, cases: int, time_limit: float, workers: int) -> list[dict]:
    rows = []
    for seed in seeds:
        roster_, load = roster(engineers, seed), case_load(cases, seed)
        started = time.perf_counter()
        g = greedy(roster_, load)
        g_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        c = cp_sat(roster_, load, time_limit=time_limit, workers=workers, hint=g)
        c_ms = (time.perf_counter() - started) * 1000
        assert violations(roster_, load, g.teams) == []
        assert c is not None and violations(roster_, load, c.teams) == []
        rows.append({"seed": seed, "greedy_ms": g_ms, "greedy_obj": g.objective, "greedy_staffed": len(g.teams),
                     "cp_ms": c_ms, "cp_obj": c.objective, "cp_status": c.status, "cp_staffed": len(c.teams)})
        print(rows[-1], flush=True)
    return rows


def table(rows: list[dict], engineers: int, cases: int, time_limit: float, workers: int) -> str:
    lines = [
        f"Generated data (`services/dispatch/suggestions/generated.py`): {engineers} engineers, {cases} cases "
        f"over 90 days, head count 1-3, minimum grade 1-4, 30% of cases needing a live-work certificate, "
        f"30% of engineers with leave. CP-SAT: time limit {time_limit:g} s, {workers} workers, warm-started "
        "from the greedy answer. Objective: lower is better (10 000 per unstaffed case, travel x10, "
        "max workload x5, minus skill levels).",
        "",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), Python "
        f"{platform.python_version()}, shared with three other test runs; run "
        f"`.venv/bin/python -m bench.assignment_benchmark` to reproduce.",
        "",
        "| seed | greedy time | greedy objective | greedy staffed | CP-SAT time | CP-SAT objective | CP-SAT status "
        "| CP-SAT staffed | improvement on staffed cases' cost |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        # the unstaffed penalty would hide the travel/balance gain: compare the cost of the staffed part
        g_cost = r["greedy_obj"] - UNSTAFFED_PENALTY * (cases - r["greedy_staffed"])
        c_cost = r["cp_obj"] - UNSTAFFED_PENALTY * (cases - r["cp_staffed"])
        gain = (g_cost - c_cost) / abs(g_cost) * 100 if g_cost else 0.0
        lines.append(f"| {r['seed']} | {r['greedy_ms']:.0f} ms | {r['greedy_obj']} | {r['greedy_staffed']}/{cases} "
                     f"| {r['cp_ms'] / 1000:.1f} s | {r['cp_obj']} | {r['cp_status']} | {r['cp_staffed']}/{cases} "
                     f"| {gain:.1f}% |")
    return "\n".join(lines)


def write(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    block = f"{BEGIN}\n{section}\n{END}"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Suggested assignment (dispatch)\n\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engineers", type=int, default=100)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--time-limit", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    rows = run(args.seeds, args.engineers, args.cases, args.time_limit, args.workers)
    write(table(rows, args.engineers, args.cases, args.time_limit, args.workers))
    print(f"written to {DOC}")


if __name__ == "__main__":
    main()
