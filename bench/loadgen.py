"""HTTP load generator, run as its own process so it does not share the server's event loop.

A small asyncio HTTP/1.1 client over keep-alive connections (no wrk/hey on this machine; httpx's
own overhead grew with the number of connections until it, not the server, set the pace). Two
ways to load:

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
import re
import time
import uuid
from collections import Counter
from pathlib import Path

from devstack.client import sample_request
from shared.api.auth import issue_dev_token
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET, ServiceSettings


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]


CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


class Connection:
    """One keep-alive HTTP/1.1 connection: write a request, read the status and the body."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> int:
        reused = self.writer is not None
        try:
            return await self._send(request)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            # the server closed an idle keep-alive connection (uvicorn: after 5 s): like any
            # client, send again once on a new connection; a fresh connection's failure counts
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            return await self._send(request)

    async def _send(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = CONTENT_LENGTH.search(head)
            if length:
                await self.reader.readexactly(int(length.group(1)))
            elif b"chunked" in head.lower():
                while True:
                    size = int((await self.reader.readline()).strip() or b"0", 16)
                    await self.reader.readexactly(size + 2)
                    if size == 0:
                        break
            if b"connection: close" in head.lower():
                self.close()
            return status
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Target:
    def __init__(self, kind: str, ids_file: str | None, host: str) -> None:
        self.kind = kind
        self.host = host
        settings = ServiceSettings()
        self.counter = itertools.count()
        self.run_id = uuid.uuid4().hex[:8].upper()
        if kind == "create":
            self.auth = f"Bearer {issue_dev_token(settings, subject='crm-system', roles=['crm'])}"
        else:
            self.auth = f"Bearer {issue_dev_token(settings, subject='bench', roles=['dispatcher'])}"
        self.ids = Path(ids_file).read_text().split() if ids_file else []

    def request(self) -> bytes:
        """The next request's bytes (built here, so its cost is the client's, as in any client)."""
        n = next(self.counter)
        if self.kind == "get":
            return (f"GET /cases/{self.ids[n % len(self.ids)]} HTTP/1.1\r\nHost: {self.host}\r\n"
                    f"Authorization: {self.auth}\r\n\r\n").encode()
        raw = json.dumps(sample_request(f"BENCH-{self.run_id}-{n}")).encode()
        headers = {"Host": self.host, "Content-Type": "application/json", "Content-Length": str(len(raw))}
        path = "/items"
        if self.kind == "create":
            path = "/crm/service-requests"
            ts = int(time.time())
            headers |= {"Authorization": self.auth, TIMESTAMP_HEADER: str(ts),
                        SIGNATURE_HEADER: sign(DEV_WEBHOOK_SECRET, ts, raw)}
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + raw


async def closed_loop(host: str, port: int, target: Target, concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    kinds: Counter[str] = Counter()
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        conn = Connection(host, port)
        while time.perf_counter() < deadline:
            request = target.request()
            t0 = time.perf_counter()
            status = await _send(conn, request, kinds)
            if status:
                latencies.append((time.perf_counter() - t0) * 1000)
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return _summary(latencies, kinds, seconds, concurrency=concurrency)


async def open_loop(host: str, port: int, target: Target, rate: float, duration: float) -> dict:
    latencies: list[float] = []
    kinds: Counter[str] = Counter()
    late_starts = 0
    idle: list[Connection] = []
    total = int(rate * duration)
    started = time.perf_counter()

    async def one(scheduled: float, request: bytes) -> None:
        conn = idle.pop() if idle else Connection(host, port)
        ok = await _send(conn, request, kinds)
        idle.append(conn)
        if ok:
            latencies.append((time.perf_counter() - scheduled) * 1000)

    tasks = []
    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late_starts += 1  # the generator itself fell behind (counted, and measured from schedule)
        tasks.append(asyncio.create_task(one(scheduled, target.request())))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    for conn in idle:
        conn.close()
    return _summary(latencies, kinds, seconds, rate=rate, late_starts=late_starts)


async def _send(conn: Connection, request: bytes, kinds: Counter[str]) -> bool:
    """True for a 2xx answer; anything else is counted by kind (status code or exception)."""
    try:
        status = await conn.send(request)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        kinds[type(exc).__name__] += 1
        return False
    if status >= 300:
        kinds[str(status)] += 1
        return False
    return True


def _summary(latencies: list[float], kinds: Counter[str], seconds: float, **extra) -> dict:
    return {
        **extra,
        "requests": len(latencies), "errors": sum(kinds.values()), "error_kinds": dict(kinds),
        "seconds": round(seconds, 3),
        "throughput": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": _percentile(latencies, 50), "p99_ms": _percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="http://host:port")
    parser.add_argument("--target", choices=["create", "get", "minimal"], required=True)
    parser.add_argument("--ids")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--rate", type=float)
    parser.add_argument("--duration", type=float, default=10)
    args = parser.parse_args()
    host, port = args.base.removeprefix("http://").rsplit(":", 1)
    target = Target(args.target, args.ids, f"{host}:{port}")
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    if args.rate:
        result = asyncio.run(open_loop(host, int(port), target, args.rate, args.duration))
    else:
        result = asyncio.run(closed_loop(host, int(port), target, args.concurrency or 1, args.duration))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
