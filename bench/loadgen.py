"""HTTP load generator, run as its own process so it does not share the server's event loop.

An asyncio httpx client (no wrk/hey on this machine). Two ways to load:

* closed loop (`--concurrency N`): N workers each send the next request when the last answered;
  gives the throughput at that concurrency;
* open loop (`--rate R`): requests start on a fixed schedule, R per second, whatever the answers;
  latency is measured from the scheduled start, so a slow server cannot hide its queueing
  (no coordinated omission).

Targets: `create` (the signed CRM webhook, a new reference each time), `get` (GET /cases/{id} over
ids read from `--ids`), `minimal` (POST /items of the minimal FastAPI + asyncpg app).
Prints one JSON object: requests, errors, seconds, throughput, p50/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import time
import uuid
from pathlib import Path

import httpx

from devstack.client import sample_request
from shared.api.auth import issue_dev_token
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET, ServiceSettings


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]


class Target:
    def __init__(self, kind: str, ids_file: str | None) -> None:
        self.kind = kind
        settings = ServiceSettings()
        self.counter = itertools.count()
        self.run_id = uuid.uuid4().hex[:8].upper()
        if kind == "create":
            self.auth = f"Bearer {issue_dev_token(settings, subject='crm-system', roles=['crm'])}"
        else:
            self.auth = f"Bearer {issue_dev_token(settings, subject='bench', roles=['dispatcher'])}"
        self.ids = Path(ids_file).read_text().split() if ids_file else []

    def request(self, client: httpx.AsyncClient):
        n = next(self.counter)
        if self.kind == "get":
            return client.get(f"/cases/{self.ids[n % len(self.ids)]}", headers={"Authorization": self.auth})
        body = sample_request(f"BENCH-{self.run_id}-{n}")
        raw = json.dumps(body).encode()
        if self.kind == "minimal":
            return client.post("/items", content=raw, headers={"Content-Type": "application/json"})
        ts = int(time.time())
        return client.post("/crm/service-requests", content=raw, headers={
            "Authorization": self.auth, "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(DEV_WEBHOOK_SECRET, ts, raw)})


async def closed_loop(base: str, target: Target, concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    r = await target.request(client)
                    ok = r.status_code < 300
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return _summary(latencies, errors, seconds, concurrency=concurrency)


async def open_loop(base: str, target: Target, rate: float, duration: float) -> dict:
    latencies: list[float] = []
    errors = 0
    late_starts = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        total = int(rate * duration)
        started = time.perf_counter()

        async def one(scheduled: float) -> None:
            nonlocal errors
            try:
                r = await target.request(client)
                ok = r.status_code < 300
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - scheduled) * 1000)
            else:
                errors += 1

        tasks = []
        for i in range(total):
            scheduled = started + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.005:
                late_starts += 1  # the generator itself fell behind (counted, and measured from schedule)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    return _summary(latencies, errors, seconds, rate=rate, late_starts=late_starts)


def _summary(latencies: list[float], errors: int, seconds: float, **extra) -> dict:
    return {
        **extra,
        "requests": len(latencies), "errors": errors, "seconds": round(seconds, 3),
        "throughput": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": _percentile(latencies, 50), "p99_ms": _percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True)
    parser.add_argument("--target", choices=["create", "get", "minimal"], required=True)
    parser.add_argument("--ids")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--rate", type=float)
    parser.add_argument("--duration", type=float, default=10)
    args = parser.parse_args()
    target = Target(args.target, args.ids)
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    if args.rate:
        result = asyncio.run(open_loop(args.base, target, args.rate, args.duration))
    else:
        result = asyncio.run(closed_loop(args.base, target, args.concurrency or 1, args.duration))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
