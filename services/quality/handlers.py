"""Events quality reacts to: dispatched teams, complaints (S34), repair requests (S28), failed values measured
on site (S13/S25), template revisions."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.issues import service
from services.quality.repairs import service as repairs
from shared.events import EventEnvelope
from shared.events.dispatch import ServiceDispatched, SpecificationTemplateRevised
from shared.events.feedback import ComplaintRaised
from shared.events.onsite import ProcessDataRecorded, RepairRequested
from shared.messaging.consumer import EventHandlers

handlers = EventHandlers()


@handlers.on(ServiceDispatched)
async def remember_team(session: AsyncSession, envelope: EventEnvelope, payload: ServiceDispatched) -> None:
    await service.remember_team(session=session, event=payload)


@handlers.on(ComplaintRaised)
async def complaint_becomes_issue(session: AsyncSession, envelope: EventEnvelope, payload: ComplaintRaised) -> None:
    """S34: a complaint from the follow-up goes back into the quality loop."""
    await service.log_complaint(session=session, event=payload, actor=envelope.actor or "feedback")


@handlers.on(RepairRequested)
async def open_repair_order(session: AsyncSession, envelope: EventEnvelope, payload: RepairRequested) -> None:
    """S28: equipment taken back on site becomes a tracked repair order."""
    await repairs.open_from_request(session=session, event=payload, actor=envelope.actor or "onsite")


@handlers.on(ProcessDataRecorded)
async def failed_value_becomes_issue(session: AsyncSession, envelope: EventEnvelope,
                                     payload: ProcessDataRecorded) -> None:
    """S13/S25: every value measured outside its limits is seen by quality: an issue registered per entry."""
    await service.log_failed_value(session=session, event=payload, actor=envelope.actor or "onsite")


@handlers.on(SpecificationTemplateRevised)
async def template_revised(session: AsyncSession, envelope: EventEnvelope,
                           payload: SpecificationTemplateRevised) -> None:
    """The template revision a preventive action asked for has landed in dispatch."""
    await service.record_template_revision(session=session, event=payload, actor=envelope.actor or "dispatch")
