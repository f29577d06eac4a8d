"""Fault-injection harness: the four services as processes, split into API and worker roles.

Each service runs an *API* process (serves HTTP; relay and consumer off) and a *worker*
process (relay and consumer on; receives no HTTP traffic). Faults hit the workers (failpoints,
SIGKILL, a second replica) and the shared servers (broker paused, PostgreSQL restarted); a
watchdog restarts dead workers, as an orchestrator would. Cases are driven through the API
processes with retries only where a request certainly did not take effect.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from devstack.client import StackClient, wait_for
from devstack.demo import run_slice
from devstack.servers import free_port
from devstack.stack import BY_NAME, SERVICES, plain_dsn
from devstack.supervisor import LocalStack
from shared.messaging.broker import header
from tests.conftest import STACK_START_SECONDS

# The follow-up calls each case of the slice gets: the rating call and the closed issue's fix confirmation.
CALL_REASONS = ("service_completed", "issue_closed")
FAST = {
    "CONSUMER_SESSION_TIMEOUT_MS": "3000",
    "CONSUMER_HEARTBEAT_INTERVAL_MS": "300",
    "CONSUMER_REBALANCE_TIMEOUT_MS": "500",
    "OUTBOX_POLL_INTERVAL_MS": "200",
    "LOG_LEVEL": "WARNING",
    # outbound webhooks (decision 0083): retries within seconds, and a lease (timeout + 30 s) that
    # runs out within a scenario when the replica holding it is killed
    "WEBHOOK_POLL_SECONDS": "0.2",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
    "WEBHOOK_RETRY_MAX_DELAY_SECONDS": "2",
    "WEBHOOK_TIMEOUT_SECONDS": "3",
    # notifications (decision 0090): retries within seconds (never `failed` within a scenario), a lease
    # (timeout + margin) of 5 s, and customers reachable at any hour (no contact window to wait for)
    "NOTIFY_POLL_SECONDS": "0.2",
    "NOTIFY_RETRY_BASE_SECONDS": "0.5",
    "NOTIFY_RETRY_MAX_DELAY_SECONDS": "2",
    "NOTIFY_MAX_ATTEMPTS": "100",
    "NOTIFY_TIMEOUT_SECONDS": "3",
    "NOTIFY_LEASE_MARGIN_SECONDS": "2",
    "NOTIFY_CUSTOMER_WINDOW_START": "00:00",
    "NOTIFY_CUSTOMER_WINDOW_END": "00:00",
}
API_ROLE = {"RELAY_ENABLED": "false", "CONSUMER_ENABLED": "false"}  # the API process: serves HTTP only


@dataclass
class FaultStack:
    """A stack with API and worker processes per service, and a watchdog for the workers."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fieldservice-faults-")))
    failpoints: dict[str, str] = field(default_factory=dict)
    restarts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.stack = LocalStack(
            data_dir=self.root, pg_port=free_port(), broker_port=free_port(),
            service_ports={s.name: free_port() for s in SERVICES}, extra_env=FAST, quiet=True,
        )
        (self.root / "failpoints").mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, daemon=True)

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.stack.start_infrastructure()
        for spec in SERVICES:
            self.stack.start_service(spec, extra_env=API_ROLE)
            self.start_worker(spec.name)
        self.stack.wait_healthy(STACK_START_SECONDS)
        self._watchdog.start()

    def worker_env(self, service: str) -> dict[str, str]:
        env = {"FIELDSERVICE_FAILPOINT_DIR": str(self.root / "failpoints")}
        if service in self.failpoints:
            env["FIELDSERVICE_FAILPOINTS"] = self.failpoints[service]
        return env

    def start_worker(self, service: str, name: str | None = None, wait: bool = False) -> None:
        port = free_port()
        self.stack.start_service(BY_NAME[service], name=name or f"{service}-worker", port=port,
                                 extra_env=self.worker_env(service))
        if wait:
            wait_for(f"{service} worker up", lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200,
                     60)

    def stop_worker(self, name: str, sig: int = signal.SIGTERM) -> None:
        self.stack.stop_service(name, sig)

    def kill(self, name: str) -> None:
        """SIGKILL one process: a worker is restarted by the watchdog, an API process here (as an
        orchestrator would restart either)."""
        proc = self.stack.services[name]
        proc.kill()
        proc.wait()
        if not name.endswith("-worker"):
            self.stack.start_service(BY_NAME[name], extra_env=API_ROLE)
            self.stack.wait_healthy(STACK_START_SECONDS)

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            for name, proc in list(self.stack.services.items()):
                if name.endswith("-worker") and proc.poll() is not None:
                    self.restarts[name] += 1
                    self.start_worker(name.removesuffix("-worker"), name)

    def stop(self) -> None:
        self._stop.set()
        if self._watchdog.is_alive():
            self._watchdog.join(5)
        self.stack.stop()

    # -- faults on the servers --------------------------------------------------------------
    def pause_broker(self, seconds: float) -> None:
        assert self.stack.broker and self.stack.broker.proc
        self.stack.broker.proc.send_signal(signal.SIGSTOP)
        time.sleep(seconds)
        self.stack.broker.proc.send_signal(signal.SIGCONT)

    def restart_postgres(self, down_for: float) -> None:
        assert self.stack.postgres
        self.stack.postgres.stop()
        time.sleep(down_for)
        self.stack.postgres.start(stdout=open(self.root / "postgres-restarted.log", "ab"))  # noqa: SIM115

    # -- driving cases ---------------------------------------------------------------------
    def drive(self, cases: int, concurrency: int = 8, timeout: float = 180.0) -> list[dict]:
        """Drive `cases` cases through the whole slice concurrently; returns their ids."""
        client = StackClient(self.stack.service_ports, retry_for=timeout, timeout=60,
                             max_connections=max(100, concurrency))
        try:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                futures = [pool.submit(run_slice, client, timeout=timeout, say=lambda _l: None) for _ in range(cases)]
                return [f.result() for f in futures]
        finally:
            client.close()

    def fail_after(self, delay: float, action) -> threading.Thread:
        """Run `action` in the background after `delay` seconds (a fault in the middle of the stream)."""
        thread = threading.Thread(target=lambda: (time.sleep(delay), action()), daemon=True)
        thread.start()
        return thread

    # -- reconciliation --------------------------------------------------------------------
    def database(self, service: str) -> str:
        return plain_dsn(self.stack.database_url(service))

    def reconcile(self, results: list[dict], timeout: float = 120.0) -> Reconciliation:
        return asyncio.run(_reconcile(self, results, timeout))


@dataclass
class Reconciliation:
    cases: int
    events_published: int
    timeline_entries: int
    duplicates_absorbed: int
    problems: list[str]
    restarts: dict[str, int]
    dead_letters: int = 0

    def report(self) -> str:
        return (f"reconciliation: {self.cases} cases, {self.events_published} events published, "
                f"{self.timeline_entries} applied once on dispatch's timeline, {self.duplicates_absorbed} "
                f"duplicate copies absorbed, {self.dead_letters} dead letters (all injected poison), "
                f"worker restarts {dict(self.restarts) or 'none'}, {len(self.problems)} problems")


async def _drained(fs: FaultStack) -> bool:
    for spec in SERVICES:
        conn = await asyncpg.connect(fs.database(spec.name))
        try:
            if await conn.fetchval("SELECT count(*) FROM outbox_message WHERE sent_at IS NULL"):
                return False
        finally:
            await conn.close()
    return True


async def _reconcile(fs: FaultStack, results: list[dict], timeout: float) -> Reconciliation:
    deadline = time.monotonic() + timeout
    while not await _drained(fs):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    case_ids = [r["case_id"] for r in results]
    problems: list[str] = []
    conns = {s.name: await asyncpg.connect(fs.database(s.name)) for s in SERVICES}
    try:
        published = await _published_events(conns, case_ids)
        # dispatch consumes every topic: each published event is on the timeline exactly once, and
        # the events of one producer were applied in their publication order. Wait for it to catch up.
        while True:
            timeline = await conns["dispatch"].fetch(
                "SELECT event_id::text, case_id, source, recorded_at FROM case_event "
                "WHERE case_id = ANY($1::text[]) ORDER BY recorded_at", case_ids)
            if set(published) <= {r["event_id"] for r in timeline} or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
            published = await _published_events(conns, case_ids)
        applied = Counter(r["event_id"] for r in timeline)
        for event_id, (case_id, _source, _seq) in published.items():
            if applied[event_id] != 1:
                problems.append(f"event {event_id} of case {case_id} applied {applied[event_id]} times")
        for case_id in case_ids:
            for source in {s for (c, s, _q) in published.values() if c == case_id}:
                want = sorted((q, e) for e, (c, s, q) in published.items() if c == case_id and s == source)
                got = [r["event_id"] for r in timeline if r["case_id"] == case_id and r["source"].endswith(source)]
                if got != [e for _q, e in want]:
                    problems.append(f"case {case_id}: {source} events applied out of order")
        problems += await _final_states(conns, case_ids)
        copies = await _topic_copies(fs.stack.bootstrap_servers, [f"{s.name}.events" for s in SERVICES])
        duplicates = sum(n - 1 for event_id, n in copies.items() if event_id in published)
        dead = await _topic_copies(fs.stack.bootstrap_servers, [f"{s.name}.dlq" for s in SERVICES], by="key")
        unexpected = {k: n for k, n in dead.items() if not k.startswith("poison-")}
        if unexpected:
            problems.append(f"dead letters that were not injected poison: {unexpected}")
        return Reconciliation(len(case_ids), len(published), len(timeline), duplicates, problems,
                              dict(fs.restarts), sum(dead.values()))
    finally:
        for conn in conns.values():
            await conn.close()


async def _topic_copies(bootstrap: str, topics: list[str], by: str = "event-id") -> Counter:
    """How many copies of each event (or key) the topics hold, read from beginning to end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        counts: Counter = Counter()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            positions = {tp: await consumer.position(tp) for tp in tps}
            if all(positions[tp] >= ends[tp] for tp in tps):
                break
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for r in records:
                    counts[(r.key or b"").decode() if by == "key" else header(r.headers, "event-id") or ""] += 1
        return counts
    finally:
        await consumer.stop()


async def _published_events(conns: dict[str, asyncpg.Connection], case_ids: list[str]) -> dict[str, tuple]:
    events: dict[str, tuple] = {}
    for service, conn in conns.items():
        rows = await conn.fetch("SELECT id::text, aggregate_id, seq, sent_at FROM outbox_message "
                                "WHERE aggregate_id = ANY($1::text[])", case_ids)
        for r in rows:
            events[r["id"]] = (r["aggregate_id"], service, r["seq"])
    return events


async def _final_states(conns: dict[str, asyncpg.Connection], case_ids: list[str]) -> list[str]:
    problems: list[str] = []
    # The slice does every duty of the standard, so dispatch closes the case (decision 0075); the visit
    # stays completed in onsite.
    checks = {
        "dispatch": ("SELECT id::text AS case_id, status FROM service_case WHERE id::text = ANY($1::text[])",
                     "closed"),
        "onsite": ("SELECT case_id::text AS case_id, status FROM site_visit WHERE case_id::text = ANY($1::text[])",
                   "completed"),
    }
    for service, (sql, expected) in checks.items():
        rows = {r["case_id"]: r["status"] for r in await conns[service].fetch(sql, case_ids)}
        for case_id in case_ids:
            if rows.get(case_id) != expected:
                problems.append(f"{service}: case {case_id} is {rows.get(case_id)}, expected {expected}")
    # One row per case, whatever was applied twice: one follow-up call per reason (the rating call and
    # the closed issue's fix-confirmation call), one quality issue, one issue on the visit.
    exactly_one = {
        "feedback": "SELECT case_id::text || ':' || reason::text AS case_id, count(*) AS n FROM follow_up_call "
                    "WHERE case_id::text = ANY($1::text[]) GROUP BY case_id, reason::text",
        "quality": "SELECT case_id::text AS case_id, count(*) AS n FROM quality_issue "
                   "WHERE case_id::text = ANY($1::text[]) GROUP BY case_id",
        "onsite": "SELECT v.case_id::text AS case_id, count(*) AS n FROM visit_quality_issue i "
                  "JOIN site_visit v ON v.id = i.visit_id WHERE v.case_id::text = ANY($1::text[]) GROUP BY v.case_id",
    }
    for service, sql in exactly_one.items():
        counts = {r["case_id"]: r["n"] for r in await conns[service].fetch(sql, case_ids)}
        keys = [f"{c}:{reason}" for c in case_ids for reason in CALL_REASONS] if service == "feedback" else case_ids
        for key in keys:
            if counts.get(key) != 1:
                problems.append(f"{service}: case {key} has {counts.get(key, 0)} records, expected 1")
    return problems


def cases_from_env(default: int) -> int:
    return int(os.environ.get("FAULT_CASES", default))
