"""Events onsite reacts to: a dispatched case opens a visit; quality issues show on it with their state."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.site_records.service import item_routed
from services.onsite.visits import service
from services.onsite.work.service import tasks_from_dispatch
from shared.events import EventEnvelope
from shared.events.dispatch import (
    ArrivalRescheduled,
    RoutedItemAnswered,
    RoutedItemAssigned,
    ServiceDispatched,
    StaffAdded,
)
from shared.events.quality import IssueClosed, IssueEscalated, IssueLogged, IssueReopened, IssueResolvedOnSite
from shared.messaging.consumer import EventHandlers

handlers = EventHandlers()


@handlers.on(ServiceDispatched)
async def open_visit(session: AsyncSession, envelope: EventEnvelope, payload: ServiceDispatched) -> None:
    """The visit opens with its tasks from the dispatched check sheets and plan (S12, S13)."""
    visit = await service.open_visit(session=session, event=payload, actor=envelope.actor,
                                     dispatched_at=envelope.time)
    if visit is not None:
        session.add_all(tasks_from_dispatch(visit.id, payload, envelope.actor))


@handlers.on(StaffAdded)
async def staff_added(session: AsyncSession, envelope: EventEnvelope, payload: StaffAdded) -> None:
    """S12: engineers added after ScheduleAtRisk may work on the visit."""
    await service.add_staff(session=session, event=payload, actor=envelope.actor)


@handlers.on(ArrivalRescheduled)
async def arrival_rescheduled(session: AsyncSession, envelope: EventEnvelope, payload: ArrivalRescheduled) -> None:
    """S7: the visit shows the new planned window."""
    await service.reschedule(session=session, event=payload, actor=envelope.actor)


@handlers.on(IssueLogged)
async def show_issue(session: AsyncSession, envelope: EventEnvelope, payload: IssueLogged) -> None:
    await service.note_issue(session=session, event=payload, actor=envelope.actor)


@handlers.on(IssueResolvedOnSite)
async def issue_resolved(session: AsyncSession, envelope: EventEnvelope, payload: IssueResolvedOnSite) -> None:
    await service.issue_changed(session=session, issue_id=payload.issue_id, status="resolved_on_site",
                                what=envelope.type, actor=envelope.actor)


@handlers.on(IssueEscalated)
async def issue_escalated(session: AsyncSession, envelope: EventEnvelope, payload: IssueEscalated) -> None:
    await service.issue_changed(session=session, issue_id=payload.issue_id, escalated=True,
                                what=envelope.type, actor=envelope.actor)


@handlers.on(IssueClosed)
async def issue_closed(session: AsyncSession, envelope: EventEnvelope, payload: IssueClosed) -> None:
    await service.issue_changed(session=session, issue_id=payload.issue_id, status="closed",
                                what=envelope.type, actor=envelope.actor)


@handlers.on(IssueReopened)
async def issue_reopened(session: AsyncSession, envelope: EventEnvelope, payload: IssueReopened) -> None:
    await service.issue_changed(session=session, issue_id=payload.issue_id, status="reopened",
                                what=envelope.type, actor=envelope.actor)


@handlers.on(RoutedItemAssigned)
async def routed(session: AsyncSession, envelope: EventEnvelope, payload: RoutedItemAssigned) -> None:
    """S22-S24: dispatch routed an item raised on site to a unit."""
    await item_routed(session=session, event=payload)


@handlers.on(RoutedItemAnswered)
async def answered(session: AsyncSession, envelope: EventEnvelope, payload: RoutedItemAnswered) -> None:
    """S22-S24: the unit's answer shows on the visit."""
    await item_routed(session=session, event=payload)
