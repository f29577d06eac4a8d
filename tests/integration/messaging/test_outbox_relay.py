"""The transactional outbox and its relay, against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from sqlalchemy import select

from devstack.client import sample_request
from services.dispatch.cases import service as cases
from services.dispatch.cases.models import ServiceCase, ServiceRequestCreate
from services.dispatch.events import emit
from shared.db import make_engine, make_sessionmaker, transaction
from shared.events import EventEnvelope
from shared.events.dispatch import ServiceRequestAcknowledged
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import OutboxMessage
from tests.integration.conftest import read_topic, wait_async

pytestmark = pytest.mark.integration


@pytest.fixture
async def sessions(env):
    engine = make_engine(env.settings("dispatch"))
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _outbox_rows(sessions, case_id) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage).where(OutboxMessage.aggregate_id == str(case_id)).order_by(OutboxMessage.seq))
        return list(rows.scalars())


async def test_outbox_row_commits_with_the_state_change(sessions):
    request = ServiceRequestCreate.model_validate(sample_request(f"OBX-{uuid.uuid4().hex[:8]}"))
    async with transaction(sessions) as session:
        case, created = await cases.receive_request(session=session, request=request, actor="crm")
    assert created
    rows = await _outbox_rows(sessions, case["id"])
    assert [r.event_type for r in rows] == ["ServiceRequestReceived"]
    envelope = EventEnvelope.model_validate(rows[0].payload)
    assert envelope.subject == str(case["id"]) and envelope.id == rows[0].id and envelope.actor == "crm"
    # the same request again finds the case and stages no second event
    async with transaction(sessions) as session:
        again, created = await cases.receive_request(session=session, request=request, actor="crm")
    assert not created and again["id"] == case["id"]
    assert len(await _outbox_rows(sessions, case["id"])) == 1


async def test_no_outbox_row_without_the_state_change(sessions):
    request = ServiceRequestCreate.model_validate(sample_request(f"OBX-{uuid.uuid4().hex[:8]}"))
    case_id = None
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            case, _ = await cases.receive_request(session=session, request=request, actor="crm")
            case_id = case["id"]
            await session.flush()
            raise RuntimeError("the request fails after the write")
    assert await _outbox_rows(sessions, case_id) == []
    async with sessions() as session:
        assert await session.get(ServiceCase, case_id) is None


async def _commit_events(sessions, case_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    ids = []
    async with transaction(sessions) as session:
        for i in range(n):
            env = emit(session, ServiceRequestAcknowledged(case_id=case_id, acknowledged_by=f"d{i}"),
                       case_id=case_id, actor="test")
            ids.append(env.id)
    return ids


async def _run(relay: OutboxRelay):
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    return stop, task


async def _stop(stop, task) -> None:
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 15)


async def test_events_committed_while_no_relay_runs_are_published_after_restart(env, sessions):
    """The relay died after the commit and before publishing: the next relay publishes, in order."""
    case_id = uuid.uuid4()
    ids = await _commit_events(sessions, case_id, 5)
    assert all(r.sent_at is None for r in await _outbox_rows(sessions, case_id))

    stop, task = await _run(OutboxRelay(env.settings("dispatch", outbox_poll_interval_ms=100)))
    try:
        messages = await read_topic(env, "dispatch.events", stop_when=lambda ms: sum(
            m.key == str(case_id).encode() for m in ms) >= 5)
        published = [EventEnvelope.from_bytes(m.value).id for m in messages if m.key == str(case_id).encode()]
        assert published == ids
        await wait_async("rows marked sent", lambda: _all_sent(sessions, case_id))
    finally:
        await _stop(stop, task)


async def _all_sent(sessions, case_id) -> bool:
    return all(r.sent_at is not None for r in await _outbox_rows(sessions, case_id))


async def test_relay_wakes_on_commit_without_waiting_for_the_poll(env, sessions):
    relay = OutboxRelay(env.settings("dispatch", outbox_poll_interval_ms=60_000))
    stop, task = await _run(relay)
    try:
        await wait_async("relay active", lambda: asyncio.sleep(0, relay.active))
        await asyncio.sleep(0.2)  # let it drain and go to sleep on LISTEN
        case_id = uuid.uuid4()
        await _commit_events(sessions, case_id, 1)
        await wait_async("published via NOTIFY", lambda: _all_sent(sessions, case_id), timeout=5)
    finally:
        await _stop(stop, task)


async def test_crash_after_publish_before_mark_publishes_again(env, sessions):
    """Duplicates, never loss: the consumer side absorbs them (see test_consumer)."""
    case_id = uuid.uuid4()
    ids = await _commit_events(sessions, case_id, 2)
    relay = OutboxRelay(env.settings("dispatch"))
    crashes = {"left": 1}

    async def crash_once(rows) -> None:
        if crashes["left"] and any(r["aggregate_id"] == str(case_id) for r in rows):
            crashes["left"] -= 1
            raise ConnectionError("process died before marking rows sent")

    relay.after_publish_hook = crash_once
    stop, task = await _run(relay)
    try:
        await wait_async("rows marked sent after the retry", lambda: _all_sent(sessions, case_id))
        messages = await read_topic(env, "dispatch.events", stop_when=lambda ms: sum(
            m.key == str(case_id).encode() for m in ms) >= 4)
        published = [EventEnvelope.from_bytes(m.value).id for m in messages if m.key == str(case_id).encode()]
        assert published == ids + ids
    finally:
        await _stop(stop, task)


async def test_only_one_relay_publishes_and_a_standby_takes_over(env):
    settings = env.settings("dispatch")
    first, second = OutboxRelay(settings, standby_retry_s=0.2), OutboxRelay(settings, standby_retry_s=0.2)
    stop1, task1 = await _run(first)
    await wait_async("first relay active", lambda: asyncio.sleep(0, first.active))
    stop2, task2 = await _run(second)
    try:
        await asyncio.sleep(1.0)
        assert first.active and not second.active
        await _stop(stop1, task1)
        await wait_async("standby takes over", lambda: asyncio.sleep(0, second.active), timeout=5)
    finally:
        await _stop(stop2, task2)
