"""Events dispatch reacts to: every case event goes on the timeline; onsite moves the status."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service
from services.dispatch.cases.models import CaseStatus
from shared.events import EventEnvelope
from shared.events.onsite import EngineerArrived, ServiceCompleted
from shared.messaging.consumer import EventHandlers

handlers = EventHandlers()


@handlers.on_any
async def add_to_timeline(session: AsyncSession, envelope: EventEnvelope, payload: object) -> None:
    await service.record_event(session=session, envelope=envelope)


@handlers.on("EngineerArrived")
async def case_on_site(session: AsyncSession, envelope: EventEnvelope, payload: EngineerArrived) -> None:
    await service.move_status(session=session, case_id=payload.case_id, target=CaseStatus.ON_SITE,
                              actor=envelope.actor)


@handlers.on("ServiceCompleted")
async def case_completed(session: AsyncSession, envelope: EventEnvelope, payload: ServiceCompleted) -> None:
    await service.move_status(session=session, case_id=payload.case_id, target=CaseStatus.COMPLETED,
                              actor=envelope.actor)
