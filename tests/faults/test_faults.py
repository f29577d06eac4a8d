"""Nothing lost, nothing applied twice, per-case order kept — under injected faults.

Each scenario drives cases through all four services (real processes, HTTP and Kafka) while
one fault is injected, then reconciles every case across the four databases and the topics.
`make test` runs a bounded form; `make chaos` sets FAULT_CASES=300 and FAULT_BROKER_PAUSE=60.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from shared.events import EventEnvelope
from shared.events.dispatch import ServiceRequestAcknowledged
from tests.faults.harness import FaultStack, cases_from_env
from tests.faults.report import REPORT

pytestmark = pytest.mark.faults

CASES = cases_from_env(4)
CONCURRENCY = min(CASES, int(os.environ.get("FAULT_CONCURRENCY", "8")))
BROKER_PAUSE = float(os.environ.get("FAULT_BROKER_PAUSE", "5"))


def arm(fs: FaultStack, service: str, failpoint: str) -> None:
    """Arm a failpoint in a service's worker: the watchdog restarts it with the point armed."""
    marker_dir = fs.root / "failpoints"
    shutil.rmtree(marker_dir, ignore_errors=True)
    marker_dir.mkdir()
    fs.failpoints = {service: failpoint}
    fs.stop_worker(f"{service}-worker")
    fs.start_worker(service, wait=True)


def disarm(fs: FaultStack) -> None:
    fs.failpoints = {}


def check(fs: FaultStack, results: list[dict], fired: list[str] | None = None) -> None:
    outcome = fs.reconcile(results)
    print(outcome.report())
    REPORT.reconciled(outcome)
    assert outcome.cases == len(results)
    assert not outcome.problems, "\n".join(outcome.problems[:20])
    for name in fired or []:
        assert (fs.root / "failpoints" / f"{name}.fired").exists(), f"failpoint {name} never fired"


@pytest.mark.parametrize(("service", "failpoint"), [
    ("dispatch", "relay.before_publish"),   # 1. relay killed after the commit, before publishing
    ("onsite", "relay.after_publish"),      # 2. killed after publishing, before marking rows sent
    ("feedback", "consumer.after_commit"),  # 3. consumer killed after its commit, before the offset commit
    ("quality", "consumer.in_handler"),     # 4. consumer killed in the middle of a handler
])
def test_a_worker_killed_at_the_worst_moment_loses_nothing(faults, service, failpoint):
    arm(faults, service, f"{failpoint}=exit@1")
    try:
        results = faults.drive(CASES, CONCURRENCY)
        check(faults, results, fired=[failpoint])
        assert faults.restarts[f"{service}-worker"] >= 1
    finally:
        disarm(faults)


def test_a_second_replica_joining_and_leaving_mid_stream(faults):
    """5. Rebalance: consumer groups share partitions, one relay publishes; no loss, no double effect."""
    def replica_in_and_out() -> None:
        faults.start_worker("onsite", "onsite-replica")
        time.sleep(3)
        faults.stop_worker("onsite-replica")

    faults.fail_after(0.5, replica_in_and_out)
    check(faults, faults.drive(CASES, CONCURRENCY))


def test_the_broker_unreachable_for_a_while(faults):
    """6. Requests keep succeeding, the outbox holds, everything drains after."""
    faults.fail_after(0.5, lambda: faults.pause_broker(BROKER_PAUSE))
    check(faults, faults.drive(CASES, CONCURRENCY, timeout=BROKER_PAUSE + 120))


def test_postgresql_restarted_under_load(faults):
    """7. Requests fail with 503 problem details while it is down; no half-written state after."""
    import httpx

    seen: list[int] = []

    def restart() -> None:
        faults.stack.postgres.stop()
        port = faults.stack.service_ports["dispatch"]
        response = httpx.get(f"http://127.0.0.1:{port}/cases", timeout=10,
                             headers={"Authorization": "Bearer x"})
        seen.append(response.status_code)
        token = _token()
        response = httpx.get(f"http://127.0.0.1:{port}/cases", timeout=10, headers={"Authorization": f"Bearer {token}"})
        seen.append(response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
        time.sleep(2)
        faults.stack.postgres.start(stdout=open(faults.root / "postgres-restarted.log", "ab"))  # noqa: SIM115

    thread = faults.fail_after(1.0, restart)
    results = faults.drive(CASES, CONCURRENCY)
    thread.join(30)
    check(faults, results)
    assert seen == [401, 503], seen


def _token() -> str:
    from shared.api.auth import issue_dev_token
    from shared.settings import ServiceSettings

    return issue_dev_token(ServiceSettings(), subject="ops", roles=["dispatcher"])


async def _inject_poison(bootstrap: str) -> int:
    now = datetime.now(UTC)
    long_subject = "poison-" + "x" * 100
    good = ServiceRequestAcknowledged(case_id=uuid.uuid4(), acknowledged_by="poison")
    messages = [
        (b"poison-unparseable", b"{not an envelope"),
        (b"poison-unknown-type", EventEnvelope(type="SomethingOdd", source="/x", time=now, subject="poison-u",
                                               correlationid="p", actor="p", data={}).to_bytes()),
        (b"poison-invalid-payload", EventEnvelope(type="ServiceDispatched", source="/x", time=now,
                                                  subject="poison-i", correlationid="p", actor="p",
                                                  data={"case_id": "not-a-uuid"}).to_bytes()),
        # A handler bug: dispatch's timeline cannot store a subject this long (a database error).
        (long_subject.encode(), EventEnvelope.wrap(good, source="/x", subject=long_subject, actor="p").to_bytes()),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait("dispatch.events", value, key=key)
    finally:
        await producer.stop()
    return len(messages)


def test_poison_messages_are_dead_lettered_and_partitions_keep_moving(faults):
    """8. Invalid payload, unknown type, a handler bug: dead-lettered with origin and error."""
    import asyncio

    asyncio.run(_inject_poison(faults.stack.bootstrap_servers))
    results = faults.drive(CASES, CONCURRENCY)
    outcome = faults.reconcile(results)
    print(outcome.report())
    REPORT.reconciled(outcome)
    assert not outcome.problems, "\n".join(outcome.problems[:20])
    assert outcome.dead_letters >= 4


def test_everything_at_once(faults):
    """One at a time above; now mixed: killed workers, a replica, the broker paused, PostgreSQL restarted."""
    marker_dir = faults.root / "failpoints"
    shutil.rmtree(marker_dir, ignore_errors=True)
    marker_dir.mkdir()
    faults.failpoints = {"dispatch": "relay.after_publish=exit@3", "onsite": "consumer.in_handler=exit@4",
                         "feedback": "consumer.after_commit=exit@2", "quality": "relay.before_publish=exit@2"}
    for service in faults.failpoints:
        faults.stop_worker(f"{service}-worker", signal.SIGKILL)
        faults.start_worker(service)
    try:
        faults.fail_after(0.5, lambda: faults.pause_broker(min(BROKER_PAUSE, 5)))
        faults.fail_after(2.0, lambda: (faults.start_worker("quality", "quality-replica"), time.sleep(3),
                                        faults.stop_worker("quality-replica")))
        faults.fail_after(4.0, lambda: faults.restart_postgres(2))
        check(faults, faults.drive(CASES, CONCURRENCY, timeout=240))
    finally:
        disarm(faults)
