"""A consumer of acknowledgements on a topic of its own, as the consumer's tests run one: its handler applies
each acknowledgement and fails as a handler bug would on one acknowledged by "bug"."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import make_engine, make_sessionmaker
from shared.events import EventEnvelope
from shared.events.dispatch import ServiceRequestAcknowledged
from shared.messaging.consumer import EventConsumer, EventHandlers
from shared.settings import ServiceSettings


def own_topic(env: Any, prefix: str) -> tuple[ServiceSettings, str]:
    """Settings of a consumer group of its own (`prefix` and a random suffix) and the topic it reads."""
    settings = env.settings("dispatch", service_name=f"{prefix}{uuid.uuid4().hex[:6]}")
    return settings, f"{settings.service_name}.events"


def acknowledgement(case_id: uuid.UUID, by: str) -> EventEnvelope:
    return EventEnvelope.wrap(ServiceRequestAcknowledged(case_id=case_id, acknowledged_by=by), source="/t",
                              subject=str(case_id), actor="t")


@asynccontextmanager
async def consuming(settings: ServiceSettings, topic: str, apply: Callable[[AsyncSession, str], None]
                    ) -> AsyncIterator[tuple[EventConsumer, async_sessionmaker[AsyncSession]]]:
    """A running consumer of `topic` whose handler calls `apply(session, acknowledged_by)`; stopped on exit."""
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    handlers = EventHandlers()

    @handlers.on(ServiceRequestAcknowledged)
    async def handle(session: AsyncSession, envelope: EventEnvelope, payload: ServiceRequestAcknowledged) -> None:
        if payload.acknowledged_by == "bug":
            raise ValueError("a handler bug")
        apply(session, payload.acknowledged_by)

    consumer = EventConsumer(settings, sessions, handlers, [topic])
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer, sessions
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)
        await engine.dispose()
