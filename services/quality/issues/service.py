"""Quality-issue operations: plain async functions on a session, never committing themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.events import emit
from services.quality.issues.models import CaseTeam, QualityIssue, QualityIssueCreate
from shared.api.auth import Principal, Role
from shared.api.problems import Forbidden, NotFound
from shared.events.dispatch import ServiceDispatched
from shared.events.quality import IssueLogged


def _now() -> datetime:
    return datetime.now(UTC)


async def remember_team(*, session: AsyncSession, event: ServiceDispatched) -> None:
    team = await session.get(CaseTeam, event.case_id)
    ids = [m.engineer_id for m in event.team]
    if team is None:
        session.add(CaseTeam(case_id=event.case_id, engineer_ids=ids, region=event.region))
    else:
        team.engineer_ids = sorted(set(team.engineer_ids) | set(ids))


async def _require_on_case(session: AsyncSession, principal: Principal, case_id: UUID) -> None:
    """An engineer logs and reads issues only on cases they are assigned to."""
    if principal.has(Role.QUALITY_ENGINEER, Role.ADMIN, Role.DISPATCHER, Role.DEPARTMENT_HEAD):
        return
    team = await session.get(CaseTeam, case_id)
    if team is None or principal.subject not in team.engineer_ids:
        raise Forbidden("engineers may log and read issues only on cases they are assigned to")


async def log_issue(*, session: AsyncSession, body: QualityIssueCreate, principal: Principal) -> QualityIssue:
    """S25: register the problem; IssueLogged tells the visit and the case record."""
    await _require_on_case(session, principal, body.case_id)
    now = _now()
    issue = QualityIssue(**body.model_dump(), logged_by=principal.subject, created_at=now, updated_at=now,
                         updated_by=principal.actor)
    session.add(issue)
    emit(session, IssueLogged(
        issue_id=issue.id, case_id=issue.case_id, visit_id=issue.visit_id, product=issue.product,
        model=issue.model, serial_number=issue.serial_number, failure_mode=issue.failure_mode,
        severity=body.severity, description=issue.description, logged_by=principal.subject,
    ), case_id=issue.case_id, actor=principal.actor)
    return issue


async def get(*, session: AsyncSession, issue_id: UUID, principal: Principal) -> QualityIssue:
    issue = await session.get(QualityIssue, issue_id)
    if issue is None:
        raise NotFound(f"quality issue {issue_id} does not exist")
    try:
        await _require_on_case(session, principal, issue.case_id)
    except Forbidden:
        raise NotFound(f"quality issue {issue_id} does not exist") from None
    return issue


async def list_for_case(
    *, session: AsyncSession, case_id: UUID, principal: Principal, limit: int
) -> list[QualityIssue]:
    await _require_on_case(session, principal, case_id)
    stmt = (select(QualityIssue).where(QualityIssue.case_id == case_id)
            .order_by(QualityIssue.created_at.desc()).limit(limit))
    return list((await session.execute(stmt)).scalars())
