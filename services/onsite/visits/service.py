"""Site-visit operations: plain async functions on a session, never committing themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.events import emit
from services.onsite.reported_times import Earlier, check_reported_time
from services.onsite.settings import reported_time_skew
from services.onsite.sync.log import note_change
from services.onsite.visits import domain
from services.onsite.visits.models import (
    ArrivalCreate,
    OnVisit,
    SiteVisit,
    ThreeCallsRecord,
    VisitQualityIssue,
    VisitStatus,
)
from shared.api.auth import SUPERVISORS, Principal, Role
from shared.api.pagination import keyset_page, where_given
from shared.api.problems import Forbidden, GateRefused, NotFound
from shared.api.regions import in_region_scope, region_scope
from shared.api.resources import bump_version, get_or_404
from shared.clock import utcnow
from shared.events.dispatch import ArrivalRescheduled, ServiceDispatched, StaffAdded
from shared.events.onsite import EngineerArrived
from shared.events.quality import IssueLogged
from shared.messages import msg

Row = TypeVar("Row", bound=OnVisit)


async def rows_on(session: AsyncSession, model: type[Row], visit_id: UUID, *order: Any) -> list[Row]:
    """Every row of one kind recorded on a visit, in `order` (its columns)."""
    stmt = select(model).where(col(model.visit_id) == visit_id).order_by(*order)
    return list((await session.execute(stmt)).scalars())


async def page_on(session: AsyncSession, model: type[Row], visit_id: UUID, at: Any, *, limit: int,
                  cursor: str | None) -> tuple[list[Row], str | None]:
    """One page of the rows of one kind recorded on a visit, oldest first (by `at`)."""
    stmt = select(model).where(col(model.visit_id) == visit_id)
    return await keyset_page(session, stmt, model=model, at=at, limit=limit, cursor=cursor)


def check_reported(visit: SiteVisit, *, step: str, field: str, at: datetime | None,
                   after: Sequence[Earlier] = ()) -> None:
    """A time a person reports on this visit is plausible (`reported_times`): not in the future, not before
    the dispatch, not before what the standard puts first."""
    if at is not None:
        check_reported_time(step=step, field=field, at=at, now=utcnow(), after=after, skew=reported_time_skew(),
                            dispatched_at=visit.dispatched_at or visit.created_at)


async def arrived_at(session: AsyncSession, visit_id: UUID, engineer_id: str | None = None) -> datetime | None:
    """S8: the first arrival on the visit (of one engineer, if given)."""
    stmt = select(func.min(col(ThreeCallsRecord.arrived_at))).where(col(ThreeCallsRecord.visit_id) == visit_id)
    if engineer_id is not None:
        stmt = stmt.where(col(ThreeCallsRecord.engineer_id) == engineer_id)
    return (await session.execute(stmt)).scalar_one_or_none()


def can_read(visit: SiteVisit, principal: Principal) -> bool:
    """The team reads its visit; dispatchers, department heads and admins too, a regional centre
    those of its own region."""
    if principal.has(Role.ADMIN, *SUPERVISORS):
        return in_region_scope(principal, visit.region)
    return principal.has(Role.ENGINEER) and principal.subject in visit.engineer_ids


async def get(*, session: AsyncSession, visit_id: UUID, principal: Principal, for_update: bool = False) -> SiteVisit:
    visit = await get_or_404(session, SiteVisit, visit_id, what=msg("site visit"), for_update=for_update)
    if not can_read(visit, principal):
        # Same answer as for a missing visit: do not reveal other teams' visits.
        raise NotFound(msg("site visit {visit_id} does not exist", visit_id=visit_id))
    return visit


async def get_for_team_member(*, session: AsyncSession, visit_id: UUID, principal: Principal) -> SiteVisit:
    visit = await get(session=session, visit_id=visit_id, principal=principal, for_update=True)
    domain.require_team_member(visit.engineer_ids, principal.subject)
    return visit


async def get_open_for_team(*, session: AsyncSession, visit_id: UUID, principal: Principal) -> SiteVisit:
    """The visit, locked, for a team engineer's write while it is still on site (arrived, not completed)."""
    visit = await get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    if visit.status == VisitStatus.DISPATCHED:
        raise GateRefused(msg("work on site"), [msg("S8: no engineer has arrived on site yet")])
    if visit.status == VisitStatus.COMPLETED:
        raise GateRefused(msg("work on site"), [msg("S30: the visit is completed; work on it is closed")])
    return visit


def touch(visit: SiteVisit, principal: Principal) -> None:
    """Bump the visit's version and audit fields after a change."""
    bump_version(visit, principal.actor)


async def open_visit(*, session: AsyncSession, event: ServiceDispatched, actor: str,
                     dispatched_at: datetime | None = None) -> SiteVisit | None:
    """ServiceDispatched opens the visit (once per case); None when it was already open."""
    existing = (await session.execute(
        select(SiteVisit).where(col(SiteVisit.case_id) == event.case_id))).scalar_one_or_none()
    if existing is not None:
        return None
    now = utcnow()
    visit = SiteVisit(
        case_id=event.case_id, crm_reference=event.crm_reference, customer_name=event.customer_name,
        site_name=event.site_name, region=event.region, equipment_type=event.equipment_type,
        team=[m.model_dump() for m in event.team], engineer_ids=[m.engineer_id for m in event.team],
        project_manager_id=event.project_manager_id, contacts=event.contacts.model_dump(mode="json"),
        planned_start=event.planned_start, planned_end=event.planned_end,
        customer_deadline=event.customer_deadline, site_address=event.site_address, dispatched_at=dispatched_at,
        plan=event.plan.model_dump(mode="json") if event.plan else None,
        check_sheets=[s.model_dump(mode="json") for s in event.check_sheets],
        created_at=now, updated_at=now, updated_by=actor,
    )
    session.add(visit)
    await session.flush()
    return visit


async def record_arrival(
    *, session: AsyncSession, visit_id: UUID, body: ArrivalCreate, principal: Principal
) -> ThreeCallsRecord:
    """S8: record the three calls and the arrival; findings are kept, never block."""
    visit = await get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    if visit.status == VisitStatus.COMPLETED:
        raise Forbidden(msg("the visit is completed"))
    check_reported(visit, step=msg("S8 arrival"), field="body.arrived_at", at=body.arrived_at)
    findings = domain.three_call_findings(body.calls)
    record = ThreeCallsRecord(
        visit_id=visit.id, engineer_id=principal.subject, arrived_at=body.arrived_at,
        calls=[c.model_dump(mode="json") for c in body.calls], compliance_findings=findings, recorded_at=utcnow(),
    )
    session.add(record)
    visit.status = VisitStatus.ON_SITE
    bump_version(visit, principal.actor)
    emit(session, EngineerArrived(
        case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject, arrived_at=body.arrived_at,
        calls=body.calls, compliance_findings=findings,
    ), case_id=visit.case_id, actor=principal.actor)
    return record


async def note_issue(*, session: AsyncSession, event: IssueLogged, actor: str = "service:quality") -> None:
    """IssueLogged: the visit of that case shows the issue (once, whatever the event id)."""
    visit = (await session.execute(select(SiteVisit).where(col(SiteVisit.case_id) == event.case_id)
                                   .with_for_update())).scalar_one_or_none()
    if visit is None or await session.get(VisitQualityIssue, event.issue_id) is not None:
        return
    session.add(VisitQualityIssue(
        issue_id=event.issue_id, visit_id=visit.id, severity=event.severity, failure_mode=event.failure_mode,
        description=event.description, logged_at=utcnow(),
    ))
    changed(session, visit, actor, "IssueLogged", {
        "issue_id": str(event.issue_id), "severity": event.severity, "failure_mode": event.failure_mode,
        "description": event.description, "status": "logged"})


def changed(session: AsyncSession, visit: SiteVisit, actor: str, what: str, data: dict[str, Any]) -> None:
    """A change dispatch or quality made to the visit: a new version (its ETag) and an entry in its
    changes feed (decision 0091)."""
    bump_version(visit, actor)
    note_change(session, visit_id=visit.id, what=what, data={"visit_id": str(visit.id), **data}, actor=actor)


async def details(*, session: AsyncSession, visit: SiteVisit) -> tuple[list[ThreeCallsRecord], list[VisitQualityIssue]]:
    arrivals = await rows_on(session, ThreeCallsRecord, visit.id, col(ThreeCallsRecord.arrived_at))
    issues = (await session.execute(
        select(VisitQualityIssue).where(col(VisitQualityIssue.visit_id) == visit.id)
        .order_by(col(VisitQualityIssue.logged_at))
    )).scalars()
    return arrivals, list(issues)


async def list_visits(
    *, session: AsyncSession, principal: Principal, case_id: UUID | None, limit: int, cursor: str | None = None
) -> tuple[list[SiteVisit], str | None]:
    """The newest visits first, `limit` of them after the cursor; the next cursor when more exist."""
    stmt = where_given(select(SiteVisit), (col(SiteVisit.case_id), case_id))
    if not principal.has(Role.ADMIN, *SUPERVISORS):
        stmt = stmt.where(col(SiteVisit.engineer_ids).contains([principal.subject]))
    elif (region := region_scope(principal)) is not None:
        stmt = stmt.where(col(SiteVisit.region) == region)
    return await keyset_page(session, stmt, model=SiteVisit, at=col(SiteVisit.created_at), limit=limit,
                             cursor=cursor, newest_first=True)


async def issue_changed(*, session: AsyncSession, issue_id: UUID, status: str | None = None,
                        escalated: bool | None = None, what: str = "IssueChanged",
                        actor: str = "service:quality") -> None:
    """S25 as seen on site: resolved on site, escalated, closed or reopened (idempotent by state)."""
    issue = await session.get(VisitQualityIssue, issue_id, with_for_update=True)
    if issue is None:
        return  # not an issue of a visit of ours (or IssueLogged not seen yet: it carries the state then)
    if (status is None or issue.status == status) and (escalated is None or issue.escalated == escalated):
        return  # applied already
    if status is not None:
        issue.status = status
    if escalated is not None:
        issue.escalated = escalated
    visit = await session.get(SiteVisit, issue.visit_id, with_for_update=True)
    if visit is not None:
        changed(session, visit, actor, what, {"issue_id": str(issue_id), "status": issue.status,
                                              "escalated": issue.escalated})


async def add_staff(*, session: AsyncSession, event: StaffAdded, actor: str) -> None:
    """S12: engineers dispatch added after ScheduleAtRisk join the team (once each, whatever the event id)."""
    visit = (await session.execute(select(SiteVisit).where(col(SiteVisit.case_id) == event.case_id)
                                   .with_for_update())).scalar_one_or_none()
    if visit is None:
        return
    new = [m for m in event.engineers if m.engineer_id not in visit.engineer_ids]
    if not new:
        return
    # Reassign (not mutate) the JSONB lists so the change is persisted.
    visit.team = [*visit.team, *(m.model_dump() for m in new)]
    visit.engineer_ids = [*visit.engineer_ids, *(m.engineer_id for m in new)]
    changed(session, visit, actor, "StaffAdded", {"engineer_ids": [m.engineer_id for m in new]})


async def reschedule(*, session: AsyncSession, event: ArrivalRescheduled, actor: str) -> None:
    """S7: the visit shows the planned window dispatch moved (a case rescheduled before dispatch
    has no visit yet: ServiceDispatched carries the moved window). Applying it again changes nothing."""
    visit = (await session.execute(select(SiteVisit).where(col(SiteVisit.case_id) == event.case_id)
                                   .with_for_update())).scalar_one_or_none()
    if visit is None or visit.status == VisitStatus.COMPLETED:
        return
    start = event.planned_start or event.new_arrival
    end = event.planned_end if event.planned_start is not None else visit.planned_end
    if (visit.planned_start, visit.planned_end) == (start, end):
        return
    visit.planned_start, visit.planned_end = start, end
    changed(session, visit, actor, "ArrivalRescheduled", {
        "planned_start": start.isoformat() if start else None, "planned_end": end.isoformat() if end else None})
