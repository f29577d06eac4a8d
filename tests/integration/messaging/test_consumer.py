"""The idempotent consumer: redelivery has no second effect; poison goes to the dead-letter topic."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.onsite.visits.models import SiteVisit
from shared.events import EventEnvelope
from shared.events.dispatch import (
    CaseContacts,
    ContactPerson,
    ServiceDispatched,
    TeamMember,
)
from shared.messaging.broker import header
from shared.messaging.tables import ProcessedEvent
from tests.integration.conftest import producer, read_topic, running_app, wait_async
from tests.integration.messaging.acknowledgements import acknowledgement, consuming, own_topic

pytestmark = pytest.mark.integration


def dispatched_envelope(case_id: uuid.UUID) -> EventEnvelope:
    person = ContactPerson(name="x")
    payload = ServiceDispatched(
        case_id=case_id, crm_reference=f"R-{case_id.hex[:6]}", customer_name="C", site_name="S", region="east",
        equipment_type="GIS", team=[TeamMember(engineer_id="e1", name="E", grade=3)], project_manager_id="e1",
        contacts=CaseContacts(account_manager=person, customer_contact=person, site_interface=person),
    )
    return EventEnvelope.wrap(payload, source="/fieldservice/dispatch", subject=str(case_id), actor="disp")


async def test_the_same_event_delivered_twice_has_one_effect(env):
    case_id = uuid.uuid4()
    envelope = dispatched_envelope(case_id)
    async with running_app(env, "onsite") as (app, _client):
        runtime = app.state.runtime
        async with producer(env) as p:
            for _ in range(3):
                await p.send_and_wait("dispatch.events", envelope.to_bytes(), key=str(case_id).encode())
        sessions = runtime.sessions

        async def visits() -> int:
            async with sessions() as s:
                return (await s.execute(select(func.count()).select_from(SiteVisit)
                                        .where(SiteVisit.case_id == case_id))).scalar_one()

        await wait_async("the visit to open", visits)
        await wait_async("both redeliveries seen", lambda: asyncio.sleep(0, runtime.consumer.stats.duplicates >= 2))
        assert await visits() == 1
        async with sessions() as s:
            processed = (await s.execute(select(func.count()).select_from(ProcessedEvent)
                                         .where(ProcessedEvent.event_id == envelope.id))).scalar_one()
        assert processed == 1


async def test_poison_messages_are_dead_lettered_and_the_partition_moves_on(env):
    settings, topic = own_topic(env, "poison")
    applied: list[str] = []
    case_id = uuid.uuid4()
    key = str(case_id).encode()
    unknown = EventEnvelope(type="MysteryHappened", source="/t", time=datetime.now(UTC), subject=str(case_id),
                            correlationid="c", actor="t", data={}).to_bytes()
    invalid = EventEnvelope(type="ServiceRequestAcknowledged", source="/t", time=datetime.now(UTC),
                            subject=str(case_id), correlationid="c", actor="t", data={"case_id": "nope"}).to_bytes()
    poison = [b"{not json", unknown, invalid, acknowledgement(case_id, "bug").to_bytes()]
    async with consuming(settings, topic, lambda _session, by: applied.append(by)) as (consumer, _sessions):
        await wait_async("consumer topics ready", lambda: _topic_exists(env, topic))
        async with producer(env) as p:
            for value in [*poison, acknowledgement(case_id, "ok").to_bytes()]:
                await p.send_and_wait(topic, value, key=key)
        await wait_async("the good message after the poison", lambda: asyncio.sleep(0, applied == ["ok"]), timeout=30)
        dead = await read_topic(env, settings.dead_letter_topic, stop_when=lambda ms: len(ms) >= 4)
        assert [m.value for m in dead] == poison
        errors = [header(m.headers, "dlq-error") for m in dead]
        assert "unparseable" in errors[0] and "unknown event type" in errors[1]
        assert "invalid payload" in errors[2] and "a handler bug" in errors[3]
        for m in dead:
            assert header(m.headers, "dlq-origin-topic") == topic
            assert header(m.headers, "dlq-origin-partition") is not None
            assert header(m.headers, "dlq-origin-offset").isdigit()
        assert consumer.stats.dead_lettered == 4


async def _topic_exists(env, topic: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=env.bootstrap_servers)
    await admin.start()
    try:
        return topic in await admin.list_topics()
    finally:
        await admin.close()
