"""Events quality reacts to: dispatched teams (who may log issues on which case)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.issues import service
from shared.events import EventEnvelope
from shared.events.dispatch import ServiceDispatched
from shared.messaging.consumer import EventHandlers

handlers = EventHandlers()


@handlers.on("ServiceDispatched")
async def remember_team(session: AsyncSession, envelope: EventEnvelope, payload: ServiceDispatched) -> None:
    await service.remember_team(session=session, event=payload)
