"""Events onsite reacts to: a dispatched case opens a visit; quality issues show on it with their state."""

from __future__ import annotations

from typing import Any

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
from shared.events.quality import (
    IssueClosed,
    IssueEscalated,
    IssueEvent,
    IssueLogged,
    IssueReopened,
    IssueResolvedOnSite,
)
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


# What each of quality's events changes on the issue as shown on its visit.
ISSUE_CHANGES: dict[type[IssueEvent], dict[str, Any]] = {
    IssueResolvedOnSite: {"status": "resolved_on_site"},
    IssueEscalated: {"escalated": True},
    IssueClosed: {"status": "closed"},
    IssueReopened: {"status": "reopened"},
}


@handlers.on(*ISSUE_CHANGES)
async def issue_changed(session: AsyncSession, envelope: EventEnvelope, payload: IssueEvent) -> None:
    await service.issue_changed(session=session, issue_id=payload.issue_id, what=envelope.type, actor=envelope.actor,
                                **ISSUE_CHANGES[type(payload)])


@handlers.on(RoutedItemAssigned)
async def routed(session: AsyncSession, envelope: EventEnvelope, payload: RoutedItemAssigned) -> None:
    """S22-S24: dispatch routed an item raised on site to a unit."""
    await item_routed(session=session, event=payload)


@handlers.on(RoutedItemAnswered)
async def answered(session: AsyncSession, envelope: EventEnvelope, payload: RoutedItemAnswered) -> None:
    """S22-S24: the unit's answer shows on the visit."""
    await item_routed(session=session, event=payload)
