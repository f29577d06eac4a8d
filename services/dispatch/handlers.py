"""Events dispatch reacts to: every case event goes on the timeline (and may close the case); onsite moves the status,
asks for staff (S12) and raises items to route (S22-S24); quality's preventive actions revise templates."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service
from services.dispatch.cases.models import CaseStatus
from services.dispatch.insight import service as insight
from services.dispatch.routing import service as routing
from services.dispatch.specifications import service as specifications
from services.dispatch.staffing import service as staffing
from services.dispatch.webhooks import service as webhooks
from shared.clock import utcnow
from shared.events import EventEnvelope
from shared.events.onsite import (
    CustomerRequestEscalated,
    EngineerArrived,
    InternalDisagreementRaised,
    ReferralRaised,
    ScheduleAtRisk,
    ServiceCompleted,
)
from shared.events.quality import PreventiveActionDefined
from shared.messaging.consumer import EventHandlers

handlers = EventHandlers()


@handlers.on_any
async def add_to_timeline(session: AsyncSession, envelope: EventEnvelope, payload: object) -> None:
    await service.record_event(session=session, envelope=envelope)


@handlers.on_batch
async def queue_webhooks(session: AsyncSession, envelopes: list[EventEnvelope]) -> None:
    """Decision 0083: one delivery per subscription that wants an event, in the timeline's transaction;
    the worker sends them later (no consumer ever waits on a receiver). Once per batch (decision 0098)."""
    await webhooks.enqueue(session=session, envelopes=envelopes, now=utcnow())


@handlers.on_any
async def close_when_done(session: AsyncSession, envelope: EventEnvelope, payload: object) -> None:
    """Decision 0075: after the event is on the timeline (and ServiceCompleted moved the status), a
    completed case whose last duties are done is closed; a closed one with a duty open again reopens."""
    await service.settle_closure(session=session, subject=envelope.subject, event_type=envelope.type,
                                 actor="service:dispatch")


@handlers.on_batch
async def refresh_insight(session: AsyncSession, envelopes: list[EventEnvelope]) -> None:
    """Decision 0085: the cases' KPI counts and conformance summaries, rewritten in the timeline's transaction
    after the batch's events are on it (the read model behind GET /kpis and GET /conformance-report); each
    case once per batch (decision 0098)."""
    await insight.refresh(session=session, events=[(e.subject, e.time) for e in envelopes], now=utcnow())


@handlers.on(EngineerArrived)
async def case_on_site(session: AsyncSession, envelope: EventEnvelope, payload: EngineerArrived) -> None:
    await service.move_status(session=session, case_id=payload.case_id, target=CaseStatus.ON_SITE,
                              actor=envelope.actor)


@handlers.on(ServiceCompleted)
async def case_completed(session: AsyncSession, envelope: EventEnvelope, payload: ServiceCompleted) -> None:
    await service.move_status(session=session, case_id=payload.case_id, target=CaseStatus.COMPLETED,
                              actor=envelope.actor)


@handlers.on(ScheduleAtRisk)
async def staffing_requested(session: AsyncSession, envelope: EventEnvelope, payload: ScheduleAtRisk) -> None:
    """S12: the deadline is at risk; a staffing request waits for the dispatcher."""
    await staffing.open_staffing_request(session=session, risk=payload, actor=envelope.actor)


@handlers.on(ReferralRaised)
async def referral_raised(session: AsyncSession, envelope: EventEnvelope, payload: ReferralRaised) -> None:
    """S22: a referral for another product of the group, to route to its unit."""
    await routing.register(session=session, envelope=envelope, item=payload, kind="referral", topic=payload.product)


@handlers.on(CustomerRequestEscalated)
async def request_escalated(session: AsyncSession, envelope: EventEnvelope,
                            payload: CustomerRequestEscalated) -> None:
    """S23: an abnormal customer request, to route to the unit or the regional centre."""
    await routing.register(session=session, envelope=envelope, item=payload, kind="abnormal_request",
                           topic=payload.topic)


@handlers.on(InternalDisagreementRaised)
async def disagreement_raised(session: AsyncSession, envelope: EventEnvelope,
                              payload: InternalDisagreementRaised) -> None:
    """S24: a disagreement between units, to mediate or escalate."""
    await routing.register(session=session, envelope=envelope, item=payload, kind="internal_disagreement",
                           topic=", ".join(payload.units) or None)


@handlers.on(PreventiveActionDefined)
async def preventive_action(session: AsyncSession, envelope: EventEnvelope,
                            payload: PreventiveActionDefined) -> None:
    """Quality's closed loop asks for a revised specification template (S5)."""
    await specifications.apply_preventive_action(session=session, action=payload, actor=envelope.actor)
