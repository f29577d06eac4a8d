"""Site-visit operations: plain async functions on a session, never committing themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.events import emit
from services.onsite.visits import domain
from services.onsite.visits.models import (
    ArrivalCreate,
    CompletionCreate,
    SiteVisit,
    ThreeCallsRecord,
    VisitQualityIssue,
    VisitStatus,
)
from shared.api.auth import Principal, Role
from shared.api.concurrency import check_if_match
from shared.api.problems import Forbidden, NotFound
from shared.events.dispatch import ServiceDispatched
from shared.events.onsite import EngineerArrived, ServiceCompleted
from shared.events.quality import IssueLogged


def _now() -> datetime:
    return datetime.now(UTC)


def can_read(visit: SiteVisit, principal: Principal) -> bool:
    """The team reads its visit; dispatchers, regional centres, department heads and admins too."""
    if principal.has(Role.ADMIN, Role.DISPATCHER, Role.REGIONAL_CENTRE, Role.DEPARTMENT_HEAD):
        return True
    return principal.has(Role.ENGINEER) and principal.subject in visit.engineer_ids


async def get(*, session: AsyncSession, visit_id: UUID, principal: Principal, for_update: bool = False) -> SiteVisit:
    stmt = select(SiteVisit).where(SiteVisit.id == visit_id)
    if for_update:
        stmt = stmt.with_for_update()
    visit = (await session.execute(stmt)).scalar_one_or_none()
    if visit is None:
        raise NotFound(f"site visit {visit_id} does not exist")
    if not can_read(visit, principal):
        # Same answer as for a missing visit: do not reveal other teams' visits.
        raise NotFound(f"site visit {visit_id} does not exist")
    return visit


async def get_for_team_member(*, session: AsyncSession, visit_id: UUID, principal: Principal) -> SiteVisit:
    visit = await get(session=session, visit_id=visit_id, principal=principal, for_update=True)
    domain.require_team_member(visit.engineer_ids, principal.subject)
    return visit


async def open_visit(*, session: AsyncSession, event: ServiceDispatched, actor: str) -> None:
    """ServiceDispatched opens the visit (once per case)."""
    existing = (await session.execute(select(SiteVisit).where(SiteVisit.case_id == event.case_id))).scalar_one_or_none()
    if existing is not None:
        return
    now = _now()
    session.add(SiteVisit(
        case_id=event.case_id, crm_reference=event.crm_reference, customer_name=event.customer_name,
        site_name=event.site_name, region=event.region, equipment_type=event.equipment_type,
        team=[m.model_dump() for m in event.team], engineer_ids=[m.engineer_id for m in event.team],
        project_manager_id=event.project_manager_id, contacts=event.contacts.model_dump(mode="json"),
        planned_start=event.planned_start, planned_end=event.planned_end,
        created_at=now, updated_at=now, updated_by=actor,
    ))


async def record_arrival(
    *, session: AsyncSession, visit_id: UUID, body: ArrivalCreate, principal: Principal
) -> ThreeCallsRecord:
    """S8: record the three calls and the arrival; findings are kept, never block."""
    visit = await get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    if visit.status == VisitStatus.COMPLETED:
        raise Forbidden("the visit is completed")
    findings = domain.three_call_findings(body.calls)
    record = ThreeCallsRecord(
        visit_id=visit.id, engineer_id=principal.subject, arrived_at=body.arrived_at,
        calls=[c.model_dump(mode="json") for c in body.calls], compliance_findings=findings, recorded_at=_now(),
    )
    session.add(record)
    visit.status = VisitStatus.ON_SITE
    visit.version += 1
    visit.updated_at, visit.updated_by = _now(), principal.actor
    emit(session, EngineerArrived(
        case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject, arrived_at=body.arrived_at,
        calls=body.calls, compliance_findings=findings,
    ), case_id=visit.case_id, actor=principal.actor)
    return record


async def complete(
    *, session: AsyncSession, visit_id: UUID, body: CompletionCreate, principal: Principal, if_match: str | None
) -> SiteVisit:
    """S30: the signed receipt completes the service."""
    visit = await get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    check_if_match(if_match, visit.version)
    arrived = (await session.execute(
        select(ThreeCallsRecord.id).where(ThreeCallsRecord.visit_id == visit.id).limit(1)
    )).first() is not None
    domain.check_completion_gate(arrived=arrived, already_completed=visit.status == VisitStatus.COMPLETED)
    now = _now()
    visit.status = VisitStatus.COMPLETED
    visit.completed_at = now
    visit.receipt_signed_by = body.receipt_signed_by
    visit.receipt_rating = body.receipt_rating
    visit.version += 1
    visit.updated_at, visit.updated_by = now, principal.actor
    emit(session, ServiceCompleted(
        case_id=visit.case_id, visit_id=visit.id, completed_at=now, customer_name=visit.customer_name,
        region=visit.region, equipment_type=visit.equipment_type, engineer_ids=visit.engineer_ids,
        receipt_rating=body.receipt_rating, receipt_comment=body.receipt_comment,
    ), case_id=visit.case_id, actor=principal.actor)
    return visit


async def note_issue(*, session: AsyncSession, event: IssueLogged) -> None:
    """IssueLogged: the visit of that case shows the issue."""
    visit = (await session.execute(select(SiteVisit).where(SiteVisit.case_id == event.case_id))).scalar_one_or_none()
    if visit is None:
        return
    session.add(VisitQualityIssue(
        issue_id=event.issue_id, visit_id=visit.id, severity=event.severity, failure_mode=event.failure_mode,
        description=event.description, logged_at=_now(),
    ))


async def details(*, session: AsyncSession, visit: SiteVisit) -> tuple[list[ThreeCallsRecord], list[VisitQualityIssue]]:
    arrivals = (await session.execute(
        select(ThreeCallsRecord).where(ThreeCallsRecord.visit_id == visit.id).order_by(ThreeCallsRecord.arrived_at)
    )).scalars()
    issues = (await session.execute(
        select(VisitQualityIssue).where(VisitQualityIssue.visit_id == visit.id)
        .order_by(VisitQualityIssue.logged_at)
    )).scalars()
    return list(arrivals), list(issues)


async def list_visits(
    *, session: AsyncSession, principal: Principal, case_id: UUID | None, limit: int
) -> list[SiteVisit]:
    stmt = select(SiteVisit)
    if case_id is not None:
        stmt = stmt.where(SiteVisit.case_id == case_id)
    if not principal.has(Role.ADMIN, Role.DISPATCHER, Role.REGIONAL_CENTRE, Role.DEPARTMENT_HEAD):
        stmt = stmt.where(SiteVisit.engineer_ids.contains([principal.subject]))
    stmt = stmt.order_by(SiteVisit.created_at.desc(), SiteVisit.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())
