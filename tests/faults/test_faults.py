"""Nothing lost, nothing applied twice, per-case order kept — under injected faults.

Each scenario drives cases through all four services (real processes, HTTP and Kafka) while
one fault is injected, then reconciles every case across the four databases and the topics.
`make test` runs a bounded form; `make chaos` sets FAULT_CASES=300 and FAULT_BROKER_PAUSE=60.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import shutil
import signal
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from devstack.client import ConditionTimeout, StackClient, wait_for
from shared.events import EventEnvelope
from shared.events.dispatch import ServiceRequestAcknowledged
from tests.faults.harness import FaultStack, cases_from_env
from tests.faults.report import REPORT
from tests.webhook_receiver import Received, WebhookReceiver, subscribe

pytestmark = pytest.mark.faults

CASES = cases_from_env(4)
CONCURRENCY = min(CASES, int(os.environ.get("FAULT_CONCURRENCY", "8")))
BROKER_PAUSE = float(os.environ.get("FAULT_BROKER_PAUSE", "5"))
# The webhook scenario waits out a lease (WEBHOOK_TIMEOUT_SECONDS + 30 s): too long for the bounded run of
# `make test`; `make chaos` (FAULT_CASES set) runs it, FAULT_WEBHOOKS=1 runs it bounded.
WEBHOOKS = os.environ.get("FAULT_WEBHOOKS", "1" if "FAULT_CASES" in os.environ else "0") == "1"


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
    """1-4. A worker killed by a failpoint at the worst moment of its relay or consumer, restarted by the
    watchdog: nothing lost, nothing applied twice, per-case order kept."""
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


def _sender(port: int, processes: dict[str, int]) -> str | None:
    """Which of `processes` (name: pid) holds the TCP connection from local `port` (Linux: /proc)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                sockets.add(f"socket:[{fields[9]}]")
    for name, pid in processes.items():
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in sockets:
                        return name
    return None


async def _webhook_problems(fs: FaultStack, subscription_id: str, case_ids: list[str],
                            receiver: WebhookReceiver) -> list[str]:
    """Every event on each case's timeline queued once for the subscription and delivered (nothing
    pending, nothing dead-lettered), and the receiver's de-duplicated stream of each case equal to
    dispatch's order (`seq`)."""
    conn = await asyncpg.connect(fs.database("dispatch"))
    try:
        recorded = await conn.fetch("SELECT case_id, event_id::text FROM case_event WHERE case_id = ANY($1::text[])",
                                    case_ids)
        deliveries = await conn.fetch(
            "SELECT case_id, event_id::text, status FROM webhook_delivery WHERE subscription_id = $1::uuid "
            "AND case_id = ANY($2::text[]) ORDER BY seq", subscription_id, case_ids)
    finally:
        await conn.close()
    problems = []
    if stuck := Counter(d["status"] for d in deliveries if d["status"] != "delivered"):
        problems.append(f"deliveries not delivered: {dict(stuck)}")
    if receiver.rejected:
        problems.append(f"requests the receiver could not verify: {receiver.rejected[:3]}")
    timelines: dict[str, set[str]] = {}
    for r in recorded:
        timelines.setdefault(r["case_id"], set()).add(r["event_id"])
    queues: dict[str, list[str]] = {}
    for d in deliveries:
        queues.setdefault(d["case_id"], []).append(d["event_id"])
    streams: dict[str, list[str]] = {}
    for e in receiver.events():
        streams.setdefault(e["subject"], []).append(e["id"])
    for case_id in case_ids:
        timeline, queued, got = timelines.get(case_id, set()), queues.get(case_id, []), streams.get(case_id, [])
        if len(queued) != len(set(queued)) or set(queued) != timeline:
            problems.append(f"case {case_id}: {len(timeline)} events on the timeline, {len(queued)} deliveries")
        if got != queued:
            problems.append(f"case {case_id}: the receiver has {len(got)} of {len(queued)} events"
                            + (", out of order" if sorted(got) == sorted(queued) else ""))
    return problems


@pytest.mark.skipif(not WEBHOOKS, reason="waits out a webhook lease (33 s): in make chaos, or FAULT_WEBHOOKS=1")
def test_a_webhook_subscriber_down_then_back_while_dispatch_is_killed(faults):
    """9. Outbound webhooks (decision 0083): the subscriber answers 503 while the cases flow, the dispatch
    worker (consumer that queues deliveries, and a sender) is killed and PostgreSQL restarts; once the
    subscriber is back, the dispatch replica sending its first accepted request is killed before it
    learns the answer. Every event of every case reaches the subscriber verified (standardwebhooks), each
    once after de-duplication on webhook-id (the killed replica's one sent again when its lease ran out),
    each case's in dispatch's order; every delivery delivered, none pending or dead-lettered."""
    receiver, pick = WebhookReceiver(), threading.Lock()
    down, release = threading.Event(), threading.Event()
    held: list[Received] = []
    down.set()

    def answer(request: Received) -> int:
        if down.is_set():
            return 503
        with pick:
            first = not held
            if first:
                held.append(request)
        if first:  # processed, but answered only once its sender is dead
            release.wait(120)
        return 200

    receiver.answer = answer
    client = StackClient(faults.stack.service_ports, retry_for=60)
    admin = client.as_("integration_admin", "integrator-faults")
    with receiver.running():
        sub = subscribe(client.http["dispatch"], admin, receiver, region="east")
        try:
            faults.fail_after(1.0, lambda: faults.stack.services["dispatch-worker"].kill())  # the watchdog restarts it
            faults.fail_after(3.0, lambda: faults.restart_postgres(2))
            results = faults.drive(CASES, CONCURRENCY)
            check(faults, results)
            case_ids = [r["case_id"] for r in results]

            down.clear()
            wait_for("a request once the subscriber is back", lambda: held, 60)
            replicas = {name: proc.pid for name, proc in faults.stack.services.items() if name.startswith("dispatch")}
            sender = _sender(held[0].peer_port, replicas)
            assert sender is not None, (held[0].peer_port, replicas)
            faults.kill(sender)
            release.set()

            def reconciled() -> bool:
                return not asyncio.run(_webhook_problems(faults, sub["id"], case_ids, receiver))

            with contextlib.suppress(ConditionTimeout):
                wait_for("every event delivered once, in order", reconciled, 180 + 2 * CASES, max_interval=2)
            problems = asyncio.run(_webhook_problems(faults, sub["id"], case_ids, receiver))
            copies = receiver.copies()
            print(f"webhooks: {sum(len(receiver.events(c)) for c in case_ids)} events of {len(case_ids)} cases "
                  f"delivered, {sum(n - 1 for n in copies.values())} duplicate copies absorbed (webhook-id), "
                  f"{receiver.requests} requests, killed mid-delivery: {sender}, {len(problems)} problems")
            assert not problems, "\n".join(problems[:20])
            assert copies[held[0].webhook_id] >= 2, "the killed replica's delivery was sent again"
        finally:
            release.set()
            client.http["dispatch"].delete(f"/webhook-subscriptions/{sub['id']}", headers=admin)
            client.close()


async def _notification_rows(fs: FaultStack, region: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(fs.database("dispatch"))
    try:
        return await conn.fetch("SELECT id::text, status, attempts, sent_at FROM notification WHERE region = $1",
                                region)
    finally:
        await conn.close()


NOTIFY_REQUESTS = int(os.environ.get("FAULT_NOTIFY_REQUESTS", str(max(CASES * 3, 12))))
# The notification scenario waits out a lease (NOTIFY_TIMEOUT_SECONDS + NOTIFY_LEASE_MARGIN_SECONDS, 5 s here) and
# a replica's restart: 20-40 s on a busy 2-core machine, so `make chaos` runs it and FAULT_NOTIFICATIONS=1 bounded.
NOTIFICATIONS = os.environ.get("FAULT_NOTIFICATIONS", "1" if "FAULT_CASES" in os.environ else "0") == "1"


@pytest.mark.skipif(not NOTIFICATIONS, reason="waits out a notification lease and a restart: make chaos, or "
                                               "FAULT_NOTIFICATIONS=1")
def test_the_mail_server_refusing_then_unreachable_while_a_sending_dispatch_replica_is_killed(faults):
    """11. Notifications (decision 0090): the SMTP server refuses every mail while service requests arrive,
    then is unreachable, then back; the dispatch replica sending the first mail it accepts is killed before
    it records the send. Every message ends `sent`, none queued or failed; each was recorded sent once, and
    every mail the server got carries its message's Message-ID: the killed replica's one arrived twice
    (at least once: sent again when its lease ran out; a send outliving its time limit also may) and is
    one mail to a client de-duplicating on it."""
    from devstack.client import sample_request
    from services.dispatch.notifications.domain import message_id

    sink = faults.stack.mail_sink
    assert sink is not None, "the fault stack runs the dev SMTP sink"
    region = f"faults-notify-{uuid.uuid4().hex[:6]}"
    dispatcher = f"dispatch.{region}@company.example.com"
    held: list[int] = []
    held_ids: list[str] = []
    release = threading.Event()
    original = sink.handle_DATA

    async def hold_first(server: Any, session: Any, envelope: Any) -> str:
        answer = await original(server, session, envelope)  # the server has the mail ...
        if dispatcher in envelope.rcpt_tos and not held:
            held.append(session.peer[1])  # (the sender's port: which replica it is)
            held_ids.append(str(email.message_from_bytes(envelope.original_content or b"")["Message-ID"]))
            await asyncio.to_thread(release.wait, 60)  # ... and answers once its sender is dead
        return answer

    client = StackClient(faults.stack.service_ports, retry_for=60)
    try:
        r = client.http["dispatch"].post("/notification-recipients", headers=client.as_("dispatcher", "disp-f"),
                                         json={"role": "dispatcher", "region": region, "name": "Dispatch",
                                               "address": dispatcher, "language": "en"})
        assert r.status_code == 201, r.text
        sink.refuse = True
        for n in range(NOTIFY_REQUESTS):  # S1: each request tells the region's dispatcher
            body = {**sample_request(f"NTF-{region[-6:]}-{n}"), "region": region}
            assert client.crm_push(body).status_code == 201

        def tried() -> bool:
            rows = asyncio.run(_notification_rows(faults, region))
            return len(rows) == NOTIFY_REQUESTS and all(r["attempts"] >= 1 for r in rows)

        wait_for("every message refused once", tried, 60, max_interval=0.5)
        sink.stop()  # unreachable: connections refused
        time.sleep(1.0)
        sink.refuse = False
        sink.handle_DATA = hold_first  # type: ignore[method-assign]  # this scenario's hook on the sink
        sink.start()
        wait_for("the first mail the server accepts", lambda: held, 30, max_interval=0.1)
        replicas = {name: proc.pid for name, proc in faults.stack.services.items() if name.startswith("dispatch")}
        sender = _sender(held[0], replicas)
        assert sender is not None, (held[0], replicas)
        faults.kill(sender)
        release.set()

        def all_sent() -> bool:
            return all(r["status"] == "sent" for r in asyncio.run(_notification_rows(faults, region)))

        with contextlib.suppress(ConditionTimeout):
            wait_for("every message sent", all_sent, 60, max_interval=0.5)
        rows = asyncio.run(_notification_rows(faults, region))
        mails = sink.to(dispatcher)
        copies = Counter(str(m.message["Message-ID"]) for m in mails)
        expected = {message_id(r["id"], "noreply@fieldservice.local") for r in rows}
        print(f"notifications: {len(rows)} messages, {sum(r['attempts'] for r in rows)} attempts, "
              f"{len(mails)} mails received, {len(mails) - len(copies)} duplicate copies (Message-ID), "
              f"killed mid-send: {sender}")
        assert len(rows) == NOTIFY_REQUESTS
        assert Counter(r["status"] for r in rows) == {"sent": NOTIFY_REQUESTS}, Counter(r["status"] for r in rows)
        assert all(r["sent_at"] is not None and r["attempts"] >= 2 for r in rows)  # refused, then sent once
        assert set(copies) == expected, set(copies) ^ expected
        assert all(len(m.message.get_all("Message-ID")) == 1 for m in mails)
        assert copies[held_ids[0]] >= 2, (held_ids, copies)  # the killed replica's mail, sent again
    finally:
        release.set()
        sink.refuse = False
        with contextlib.suppress(AttributeError):
            del sink.handle_DATA  # the sink's own hook again
        client.close()


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



# All cases in flight at once is a full-size scenario (`make chaos`); FAULT_FULL_FLIGHT=1 runs it bounded.
FULL_FLIGHT = os.environ.get("FAULT_FULL_FLIGHT", "1" if "FAULT_CASES" in os.environ else "0") == "1"


@pytest.mark.skipif(not FULL_FLIGHT, reason="every case in flight at once: make chaos (FAULT_FULL_FLIGHT=1 bounded)")
def test_every_case_in_flight_at_once_while_the_broker_pauses_and_postgresql_restarts(faults):
    """10. Every case in flight at once (not a few at a time): the broker paused and PostgreSQL restarted
    while they all are; the same reconciliation, nothing lost, nothing applied twice, per-case order kept."""
    faults.fail_after(1.0, lambda: faults.pause_broker(min(BROKER_PAUSE, 30)))
    faults.fail_after(3.0, lambda: faults.restart_postgres(2))
    # Each journey waits on conditions; with every case at once a step waits behind all the others' (a 300-case
    # run at load 15 on 2 cores timed out at 360 s per wait with the stack still draining): the bound grows with them.
    check(faults, faults.drive(CASES, CASES, timeout=BROKER_PAUSE + 300 + 4 * CASES))
