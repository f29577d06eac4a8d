"""`make bench`: every benchmark on its own servers (free ports), results into docs/performance.md.

`BENCH_QUICK=1` runs the same building blocks on small sizes and short runs (a smoke run) and
writes to bench/results/performance-quick.md instead, so the document keeps the full figures.
`BENCH_ONLY=http,events,scale,replanning,assignment` runs a subset (its sections are replaced, the others
kept); replanning and assignment are the pure domain (bench/replanning_benchmark.py,
bench/assignment_benchmark.py), timed without servers.
"""

from __future__ import annotations

import json
import os
import time

from bench import (
    assignment_benchmark,
    common,
    event_benchmark,
    http_benchmark,
    replanning_benchmark,
    scale_benchmark,
)
from bench.common import infrastructure, machine, machine_text, say, write_section

FULL = {
    "http": {"concurrencies": [1, 8, 32, 64], "duration": 10.0, "rate": 200.0, "rate_duration": 20.0},
    "events": {"rates": [50.0, 200.0, 400.0], "latency_seconds": 15.0, "backlogs": [2_000, 10_000, 30_000]},
    "scale": {"sizes": [10_000, 100_000, 1_000_000], "repeats": 40},
    "replanning": {"seeds": [1, 2, 3], "engineers": 500, "cases": 2000, "time_limit": 4.0, "workers": 2,
                   "tight": 200},
    "assignment": {"sizes": assignment_benchmark.FULL, "seeds": [1, 2, 3], "workers": 2},
}
QUICK = {
    "http": {"concurrencies": [1, 8], "duration": 2.0, "rate": 50.0, "rate_duration": 2.0},
    "events": {"rates": [20.0, 50.0, 100.0], "latency_seconds": 2.0, "backlogs": [200, 500, 1_000]},
    "scale": {"sizes": [1_000, 3_000, 10_000], "repeats": 5},
    "replanning": {"seeds": [1], "engineers": 100, "cases": 400, "time_limit": 2.0, "workers": 2},
    "assignment": {"sizes": assignment_benchmark.QUICK, "seeds": [1], "workers": 2},
}


def growth_table(results: dict) -> str:
    """Table 5: each figure at three sizes, with how much it grew from the first to the last."""
    rows: list[tuple[str, list[str], list[float]]] = []
    http = results.get("http")
    if http:
        cs = list(http["concurrency"])
        pick = [cs[0], cs[len(cs) // 2], cs[-1]] if len(cs) >= 3 else cs
        for target, label in (("create", "create-case"), ("get", "get-case"), ("minimal", "minimal insert")):
            rows.append((f"{label} p99 at concurrency " + " / ".join(map(str, pick)),
                         [common.ms(http["concurrency"][c][target]["p99_ms"]) for c in pick],
                         [http["concurrency"][c][target]["p99_ms"] for c in pick]))
            rows.append((f"{label} throughput at concurrency " + " / ".join(map(str, pick)),
                         [f"{http['concurrency'][c][target]['throughput']:.0f}/s" for c in pick],
                         [http["concurrency"][c][target]["throughput"] for c in pick]))
    events = results.get("events")
    if events:
        lat = events["latency"]
        rows.append(("event p99 at " + " / ".join(f"{r['rate']:g}" for r in lat) + " events/s",
                     [common.ms(r["p99_ms"]) for r in lat], [r["p99_ms"] for r in lat]))
        thr = events["throughput"]
        rows.append(("event throughput with a backlog of " + " / ".join(f"{r['events']:,}" for r in thr),
                     [f"{r['per_second']:.0f}/s" for r in thr], [r["per_second"] for r in thr]))
    scale = results.get("scale")
    if scale:
        sizes = scale["sizes"]
        label = " / ".join(f"{s['load']['cases']:,}" for s in sizes)
        for name in sizes[0]["queries"]:
            rows.append((f"{name}: p95 at {label} cases", [common.ms(s["queries"][name]["p95_ms"]) for s in sizes],
                         [s["queries"][name]["p95_ms"] for s in sizes]))
    lines = ["Each figure at three sizes (concurrency, offered rate, backlog or data size); the last column is "
             "the last value over the first.", "",
             "| figure | size 1 | size 2 | size 3 | last / first |", "|---|---|---|---|---|"]
    for name, cells, values in rows:
        cells = ([*cells, "-", "-", "-"])[:3]
        factor = f"x{values[-1] / values[0]:.1f}" if values and values[0] else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {factor} |")
    return "\n".join(lines)


def summary(m: dict, targets: list[tuple[str, bool, str]], seconds: dict[str, float]) -> str:
    parts = ", ".join(f"{name} {sec / 60:.1f}" for name, sec in seconds.items())
    lines = [machine_text(m), "",
             f"`make bench` took {sum(seconds.values()) / 60:.1f} min ({parts} min, servers' start-up included). "
             "Reproduce: `make bench` (or `BENCH_QUICK=1 make bench` for a smoke run; "
             "`BENCH_ONLY=http,events,scale` reruns a subset and keeps the others' last results).", "",
             "| target | met | measured |", "|---|---|---|"]
    for name, met, figure in targets:
        lines.append(f"| {name} | {'yes' if met else '**no**'} | {figure} |")
    return "\n".join(lines)


def all_targets(results: dict) -> list[tuple[str, bool, str]]:
    targets: list[tuple[str, bool, str]] = []
    if "http" in results:
        targets += http_benchmark.targets(results["http"])
    if "events" in results:
        targets += event_benchmark.targets(results["events"])
    if "scale" in results:
        targets += scale_benchmark.targets(results["scale"])
    if "replanning" in results:
        targets += replanning_benchmark.targets(results["replanning"])
    if "assignment" in results:
        targets += assignment_benchmark.targets(results["assignment"])
    return targets


def _previous(name: str) -> dict:
    path = common.ROOT / "bench" / "results" / f"{name}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def main() -> None:
    quick = common.quick()
    sizes = QUICK if quick else FULL
    only = set(filter(None, os.environ.get("BENCH_ONLY", "http,events,scale,replanning,assignment").split(",")))
    if quick:
        os.environ.setdefault("BENCH_DOC", str(common.ROOT / "bench" / "results" / "performance-quick.md"))
    previous = _previous("quick" if quick else "full")
    results: dict = {k: v for k, v in previous.get("results", {}).items() if k not in only}
    before = previous.get("seconds")
    seconds: dict[str, float] = {k: v for k, v in (before if isinstance(before, dict) else {}).items()
                                 if k not in only and k in results}
    with infrastructure() as infra:
        m = machine(infra)
        say(f"machine: {m}")
        for name in ("http", "events", "scale", "replanning", "assignment"):
            if name not in only:
                continue
            started = time.monotonic()
            if name == "http":
                results["http"] = http_benchmark.run(infra, **sizes["http"])
                write_section("http", "1. HTTP: create-case and get-case against a minimal insert",
                              http_benchmark.table(results["http"]))
            elif name == "events":
                results["events"] = event_benchmark.run(infra, **sizes["events"])
                write_section("event-latency", "2. Event latency: producing commit to consuming commit",
                              event_benchmark.latency_table(results["events"]))
                write_section("event-throughput", "3. Event throughput: outbox -> broker -> idempotent consumer",
                              event_benchmark.throughput_table(results["events"]))
            elif name == "assignment":  # pure domain: no servers
                results["assignment"] = assignment_benchmark.run(**sizes["assignment"])
                assignment_benchmark.write(assignment_benchmark.table(results["assignment"]))
            elif name == "replanning":  # pure domain: no servers
                rp = sizes["replanning"]
                results["replanning"] = replanning_benchmark.run(**rp)
                results["replanning"]["http"] = replanning_benchmark.run_http(
                    infra, rp["engineers"], rp["cases"], rp["seeds"][0], repeats=5 if not quick else 1)
                write_section("replanning", "6. Replanning: a repair after leave, an urgent case, S2 windows",
                              replanning_benchmark.table(results["replanning"]))
            else:
                results["scale"] = scale_benchmark.run(infra, **sizes["scale"])
                write_section("scale", "4. Scale: list, search and conformance with many cases and events",
                              scale_benchmark.table(results["scale"]))
            seconds[name] = time.monotonic() - started
    results = json.loads(json.dumps(results, default=str))  # the same shape as when read back
    write_section("growth", "5. How cost grows", growth_table(results))
    write_section("summary", "Machine and targets", summary(m, all_targets(results), seconds))
    common.save_json("quick" if quick else "full", {"machine": m, "results": results, "seconds": seconds})
    say(f"done in {sum(seconds.values()) / 60:.1f} min; written to {common.doc_path()}")


if __name__ == "__main__":
    main()
