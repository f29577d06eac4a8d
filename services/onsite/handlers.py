"""Events onsite reacts to: a dispatched case opens a visit; logged issues show on it."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.visits import service
from shared.events import EventEnvelope
from shared.events.dispatch import ServiceDispatched
from shared.events.quality import IssueLogged
from shared.messaging.consumer import EventHandlers

handlers = EventHandlers()


@handlers.on("ServiceDispatched")
async def open_visit(session: AsyncSession, envelope: EventEnvelope, payload: ServiceDispatched) -> None:
    await service.open_visit(session=session, event=payload, actor=envelope.actor)


@handlers.on("IssueLogged")
async def show_issue(session: AsyncSession, envelope: EventEnvelope, payload: IssueLogged) -> None:
    await service.note_issue(session=session, event=payload)
