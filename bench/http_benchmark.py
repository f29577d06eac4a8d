"""Benchmark 1: HTTP create-case and get-case against a minimal FastAPI + asyncpg insert.

The dispatch service runs as it does in production (decision 0098): one uvicorn process answers the
API with its relay and consumer off, and a second process of the same app runs the outbox relay and
the consumer (so every created case also goes through the relay and onto the timeline), against its
own database. The minimal app (`bench/minimal_app.py`) runs as another uvicorn process against
its own database on the same server. The load generator (`bench/loadgen.py`) is a third process.
At each concurrency the minimal endpoint and create-case are measured back to back, so both see
the same machine; then get-case over the cases created; then a fixed-rate run at 200 requests/s.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.common import Infra, ms, say, wait_healthy
from devstack.servers import free_port
from devstack.stack import ROOT, create_databases


def loadgen(port: int, target: str, *, concurrency: int | None = None, rate: float | None = None,
            duration: float, ids: Path | None = None) -> dict:
    args = [sys.executable, "-m", "bench.loadgen", "--base", f"http://127.0.0.1:{port}", "--target", target,
            "--duration", str(duration)]
    if concurrency:
        args += ["--concurrency", str(concurrency)]
    if rate:
        args += ["--rate", str(rate)]
    if ids:
        args += ["--ids", str(ids)]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=duration * 4 + 60)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_minimal(infra: Infra) -> tuple[subprocess.Popen, int]:
    asyncio.run(create_databases(infra.postgres_url, ["bench_minimal"]))
    port = free_port()
    env = {**infra.stack.env(), "BENCH_MINIMAL_DSN": infra.dsn("bench_minimal")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.minimal_app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_healthy(port, 60, proc)
    return proc, port


async def _settle(dsn: str, timeout: float = 120) -> None:
    """Wait until dispatch has published its outbox and put every event on the timeline, so one
    measurement does not pay for the background work the previous one left behind."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM outbox_message WHERE sent_at IS NULL) AS unsent, "
                "(SELECT count(*) FROM outbox_message) - (SELECT count(*) FROM processed_event "
                "WHERE consumer_group = 'dispatch') AS unconsumed")
            if row["unsent"] == 0 and row["unconsumed"] <= 0:
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def settle(infra: Infra) -> None:
    asyncio.run(_settle(infra.dsn("dispatch")))


async def _case_ids(dsn: str, limit: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT id FROM service_case ORDER BY random() LIMIT $1", limit)
        return [str(r["id"]) for r in rows]
    finally:
        await conn.close()


# The production layout (decision 0098): API replicas without relay and consumer, one process with them.
API_ENV = {"RELAY_ENABLED": "false", "CONSUMER_ENABLED": "false"}


def run(infra: Infra, concurrencies: list[int], duration: float, rate: float, rate_duration: float,
        warmup: float = 2.0) -> dict:
    infra.start_service("dispatch", name="dispatch-relay")
    dispatch = infra.start_service("dispatch", env=API_ENV)
    minimal, minimal_port = start_minimal(infra)
    results: dict = {"concurrency": {}, "rate": {}, "duration": duration, "rate_duration": rate_duration,
                     "load_generator": "bench/loadgen.py, a small asyncio HTTP/1.1 keep-alive client (uvloop) "
                                       "in a separate process"}
    try:
        say("HTTP: warming up")
        loadgen(minimal_port, "minimal", concurrency=8, duration=warmup)
        loadgen(dispatch, "create", concurrency=8, duration=warmup)
        for c in concurrencies:
            settle(infra)
            load = os.getloadavg()[0]
            point = {"minimal": loadgen(minimal_port, "minimal", concurrency=c, duration=duration),
                     "create": loadgen(dispatch, "create", concurrency=c, duration=duration)}
            point["load"] = [load, os.getloadavg()[0]]  # 1-minute load before the minimal, after the create run
            started = time.monotonic()
            settle(infra)  # how long the relay process took to publish and consume the rest
            point["catch_up_s"] = time.monotonic() - started
            results["concurrency"][c] = point
            say(f"HTTP c={c}: minimal {point['minimal']['throughput']:.0f}/s, "
                f"create {point['create']['throughput']:.0f}/s, load {load:.1f}")
        ids_file = Path(tempfile.mkstemp(prefix="bench-ids-", suffix=".txt")[1])
        ids_file.write_text("\n".join(asyncio.run(_case_ids(infra.dsn("dispatch"), 5000))))
        for c in concurrencies:
            settle(infra)
            results["concurrency"][c]["get"] = got = loadgen(dispatch, "get", concurrency=c, duration=duration,
                                                             ids=ids_file)
            say(f"HTTP c={c}: get {got['throughput']:.0f}/s")
        for target, port in (("minimal", minimal_port), ("create", dispatch), ("get", dispatch)):
            settle(infra)
            results["rate"][target] = r = loadgen(port, target, rate=rate, duration=rate_duration,
                                                  ids=ids_file if target == "get" else None)
            say(f"HTTP {rate:g}/s {target}: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms")
        ids_file.unlink(missing_ok=True)
    finally:
        minimal.terminate()
        minimal.wait(20)
        infra.stop_service("dispatch")
        infra.stop_service("dispatch-relay")
    return results


def table(res: dict) -> str:
    rate = res["rate"]
    lines = [
        f"Closed loop: at each concurrency N, N clients send their next request as soon as the last one "
        f"answered, for {res['duration']:g} s per point (after a warm-up). Load generator: "
        f"{res['load_generator']} (no `wrk`/`hey` installed); it shares the 2 cores with the servers, so "
        "absolute figures are lower bounds, the ratio is the comparable figure. *create* is "
        "`POST /crm/service-requests` (HMAC-signed body, bearer token, a new CRM reference each time: "
        "one statement: the case's INSERT ... ON CONFLICT and its outbox row's INSERT in one CTE); *get* is "
        "`GET /cases/{id}` over "
        "5 000 cases; *minimal* is `bench/minimal_app.py` (FastAPI + asyncpg, one insert of the same JSON "
        "body, no auth). Each runs as its own uvicorn process (one worker, uvloop, httptools); dispatch as in "
        "production (decision 0098): the API process with its relay and consumer off, a second process of the "
        "same app running the outbox relay and the consumer. Before each measurement the benchmark waits until "
        "dispatch has published and consumed everything the previous one created; *events caught up after* is how "
        "long that took after the create run (the relay process's backlog). *load* is the machine's 1-minute load "
        "average before the minimal run and after the create run (the machine is shared).",
        "",
        "| concurrency | load (1 min) | minimal insert req/s (p50 / p99) | create-case req/s (p50 / p99) "
        "| create / minimal | events caught up after | get-case req/s (p50 / p99) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c, point in res["concurrency"].items():
        mi, cr, ge = point["minimal"], point["create"], point.get("get", {})
        ratio = cr["throughput"] / mi["throughput"] if mi["throughput"] else float("nan")
        load = " / ".join(f"{x:.1f}" for x in point.get("load", [])) or "-"
        caught_up = f"{point['catch_up_s']:.1f} s" if "catch_up_s" in point else "-"
        lines.append(
            f"| {c} | {load} | {mi['throughput']:.0f} ({ms(mi['p50_ms'])} / {ms(mi['p99_ms'])}) "
            f"| {cr['throughput']:.0f} ({ms(cr['p50_ms'])} / {ms(cr['p99_ms'])}) | **{ratio:.2f}** | {caught_up} "
            f"| {ge.get('throughput', 0):.0f} ({ms(ge.get('p50_ms'))} / {ms(ge.get('p99_ms'))}) |")
    lines += [
        "",
        f"Fixed rate (open loop): requests start on a schedule of {next(iter(rate.values()))['rate']:g} per second "
        f"for {res['rate_duration']:g} s whatever the answers; latency is counted from the scheduled start.",
        "",
        "| endpoint | offered | achieved | errors | p50 | p99 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for target, r in rate.items():
        errors = ", ".join(f"{n} x {k}" for k, n in r.get("error_kinds", {}).items()) or "0"
        lines.append(f"| {target} | {r['rate']:g}/s | {r['throughput']:.0f}/s | {errors} | {ms(r['p50_ms'])} "
                     f"| {ms(r['p99_ms'])} | {ms(r['max_ms'])} |")
    return "\n".join(lines)


def targets(res: dict) -> list[tuple[str, bool, str]]:
    """(target, met, figure) for the summary."""
    ratios = {c: p["create"]["throughput"] / p["minimal"]["throughput"]
              for c, p in res["concurrency"].items() if p["minimal"]["throughput"]}
    worst_c = min(ratios, key=ratios.get)
    out = [("create-case >= 0.5 x the minimal insert's throughput", all(r >= 0.5 for r in ratios.values()),
            f"lowest ratio {ratios[worst_c]:.2f} at concurrency {worst_c}")]
    for target in ("create", "get"):
        r = res["rate"][target]
        out.append((f"{target}-case p99 < 50 ms at {r['rate']:g} req/s", r["p99_ms"] < 50 and r["errors"] == 0,
                    f"p99 {r['p99_ms']:.1f} ms, {r['errors']} errors"))
    return out
