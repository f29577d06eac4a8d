"""Benchmark of the suggested assignment (issue 18, decision 0096): 100 engineers x 300 cases and
500 x 2,000 over a quarter, the proven search against greedy, with the bound and gap of every answer.

Run: `.venv/bin/python -m bench.assignment_benchmark [--seeds 1 2 3]` (also part of `make bench`;
`BENCH_QUICK=1` runs small sizes and writes to bench/results/performance-quick.md).
Writes its table into docs/performance.md (the section between the benchmark's markers).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from bench import common
from services.dispatch.suggestions.domain import (
    BALANCE_WEIGHT,
    SKILL_WEIGHT,
    TRAVEL_WEIGHT,
    UNSTAFFED_PENALTY,
    build,
    greedy,
    solve,
    violations,
)
from services.dispatch.suggestions.generated import case_load, roster

MARKER = "assignment-benchmark"  # the section's comments in docs/performance.md, older than common's names
# (engineers, cases, time limit in s, the gap to prove, within seconds): the targets
FULL = [(100, 300, 5.0, 0.005, 5.0), (500, 2000, 60.0, 0.02, 60.0)]
QUICK = [(30, 60, 2.0, 0.005, 5.0), (60, 200, 5.0, 0.02, 60.0)]


def run(sizes: list[tuple[int, int, float, float, float]], seeds: list[int], workers: int = 2) -> dict:
    rows = []
    load_before = os.getloadavg()
    for engineers, cases, limit, target_gap, target_seconds in sizes:
        for seed in seeds:
            roster_, needs = roster(engineers, seed), case_load(cases, seed, lead_rules=True)
            started = time.perf_counter()
            g = greedy(roster_, needs)
            g_s = time.perf_counter() - started
            m = build(roster_, needs)
            started = time.perf_counter()
            best = solve(roster_, needs, time_limit=limit, workers=workers, hint=g)
            seconds = time.perf_counter() - started
            assert violations(roster_, needs, g.teams) == []
            assert violations(roster_, needs, best.teams) == []
            assert best.bound <= best.objective <= g.objective
            rows.append({"engineers": engineers, "cases": cases, "seed": seed, "time_limit": limit,
                         "seconds": seconds, "objective": best.objective, "bound": best.bound, "gap": best.gap,
                         "status": best.status, "staffed": len(best.teams), "greedy": g.objective,
                         "greedy_seconds": g_s, "greedy_staffed": len(g.teams), "options": m.options,
                         "cliques": len(m.cliques), "target_gap": target_gap, "target_seconds": target_seconds,
                         "load": os.getloadavg()[0],
                         "steps": " / ".join(f"{best.steps.get(k, 0):.1f}"
                                             for k in ("model", "relaxation", "incumbent", "decomposition", "search"))})
            common.say(f"assignment {engineers}x{cases} seed {seed}: {rows[-1]}")
    return {"rows": rows, "workers": workers, "load": f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f}"}


def targets(result: dict) -> list[tuple[str, bool, str]]:
    found = []
    for size in sorted({(r["engineers"], r["cases"]) for r in result["rows"]}):
        mine = [r for r in result["rows"] if (r["engineers"], r["cases"]) == size]
        gap, seconds = mine[0]["target_gap"], mine[0]["target_seconds"]
        met = all(r["gap"] <= gap and r["seconds"] < seconds for r in mine)
        worst = max(mine, key=lambda r: r["gap"])
        found.append((f"assignment {size[0]} x {size[1]:,}: proven gap <= {gap:.1%} in < {seconds:g} s", met,
                      f"worst gap {worst['gap']:.1%} in {worst['seconds']:.1f} s ({len(mine)} seeds, "
                      f"load {result['load']})"))
    return found


def table(result: dict) -> str:
    lines = [
        "Generated data (`services/dispatch/suggestions/generated.py`, `lead_rules=True`): cases over 90 days, "
        "head count 1-3, minimum grade 1-4, 30% of cases needing a live-work certificate, a third of the teams "
        "of two or more needing a project manager of grade 4+ and a fifth one holding the project-management "
        "certificate, 30% of engineers with leave. Objective (lower is better, never negative): "
        f"{UNSTAFFED_PENALTY:,} per unstaffed case, per member travel x{TRAVEL_WEIGHT} and x{SKILL_WEIGHT} per "
        f"skill level short of 5, x{BALANCE_WEIGHT} per engineer-day beyond the fair share. *Bound*: proven "
        "(no assignment under the S3 rules scores lower; from the relaxation's row prices, HiGHS' branch "
        "and cut or, where branch and cut cannot take the whole model, the decomposition per engineer, "
        "decision 0096); *gap* = (objective - bound) / (objective - the penalty of cases no team can "
        "ever staff, which every answer and bound share). *Steps*: seconds for the model, the relaxation, the "
        "incumbent (rounding, local search), the decomposition bound (large models, on one core; with two it "
        "runs beside the search) and the search. *Greedy* is the fallback's objective. "
        "Every answer is checked by `violations` (every hard rule, the project manager's qualification "
        "included).",
        "",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), Python "
        f"{platform.python_version()}, HiGHS on one thread; load average (1 min) {result['load']} at the "
        "start / end — the machine is shared with other runs. Reproduce: `.venv/bin/python -m "
        "bench.assignment_benchmark` or `BENCH_ONLY=assignment make bench`.",
        "",
        "| size | seed | options / cliques | time limit | time | steps | objective | bound | gap | status | greedy "
        "| staffed (greedy) | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['engineers']} x {r['cases']:,} | {r['seed']} | {r['options']:,} / {r['cliques']:,} "
            f"| {r['time_limit']:g} s | {r['seconds']:.1f} s | {r.get('steps', '-')} | {r['objective']:,} "
            f"| {r['bound']:,} "
            f"| {r['gap']:.2%} | {r['status']} | {r['greedy']:,} | {r['staffed']} ({r['greedy_staffed']}) "
            f"| {r['load']:.1f} |")
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if met else '**no**'} | {figure} |" for name, met, figure in targets(result)]
    return "\n".join(lines)


def write(section: str) -> None:
    common.write_section("assignment", "Suggested assignment (dispatch)", section, marker=MARKER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    quick = common.quick()
    if quick:
        os.environ.setdefault("BENCH_DOC", str(common.ROOT / "bench" / "results" / "performance-quick.md"))
    result = run(QUICK if quick else FULL, args.seeds[:1] if quick else args.seeds, args.workers)
    write(table(result))
    print(f"written to {common.doc_path()}")


if __name__ == "__main__":
    main()
