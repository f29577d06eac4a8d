"""Read-only views across quality issues (S25 closed-loop oversight)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.issues.domain import OPEN
from services.quality.issues.models import IssueStatus, QualityIssue


async def recurrence(*, session: AsyncSession, min_cases: int) -> list[dict[str, Any]]:
    """The same failure mode on the same model across several cases."""
    cases = func.count(func.distinct(col(QualityIssue.case_id)))
    stmt = (select(col(QualityIssue.failure_mode), col(QualityIssue.model), cases.label("case_count"),
                   func.count().label("issue_count"),
                   func.array_agg(func.distinct(col(QualityIssue.case_id))).label("case_ids"),
                   func.min(col(QualityIssue.created_at)).label("first_seen"),
                   func.max(col(QualityIssue.created_at)).label("last_seen"))
            .where(col(QualityIssue.model).is_not(None))
            .group_by(col(QualityIssue.failure_mode), col(QualityIssue.model))
            .having(cases >= min_cases)
            .order_by(cases.desc(), col(QualityIssue.failure_mode), col(QualityIssue.model)).limit(200))
    return [dict(row._mapping) for row in await session.execute(stmt)]


async def time_to_close(*, session: AsyncSession) -> list[dict[str, Any]]:
    """Mean time from logging to closure (loop closed or fixed on site) per severity, in hours."""
    hours = func.extract("epoch", col(QualityIssue.closed_at) - col(QualityIssue.created_at)) / 3600
    stmt = (select(col(QualityIssue.severity), func.count().label("closed_count"),
                   func.avg(hours).label("mean_hours"))
            .where(col(QualityIssue.closed_at).is_not(None),
                   col(QualityIssue.status).in_([IssueStatus.CLOSED, IssueStatus.RESOLVED_ON_SITE]))
            .group_by(col(QualityIssue.severity)).order_by(col(QualityIssue.severity)))
    return [{"severity": r.severity, "closed_count": r.closed_count, "mean_hours": round(float(r.mean_hours), 3)}
            for r in await session.execute(stmt)]


def _past_sla_condition(now: datetime) -> ColumnElement[bool]:
    response_late = (col(QualityIssue.responded_at).is_(None)) & (col(QualityIssue.response_due_at) < now)
    return (col(QualityIssue.status).in_(list(OPEN)) & col(QualityIssue.sla_paused_since).is_(None)
            & or_(response_late, col(QualityIssue.resolution_due_at) < now))


async def past_sla(*, session: AsyncSession, now: datetime, limit: int) -> list[QualityIssue]:
    """Open issues whose response or resolution deadline has passed (paused clocks excluded)."""
    stmt = (select(QualityIssue).where(_past_sla_condition(now))
            .order_by(col(QualityIssue.resolution_due_at), col(QualityIssue.id)).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def count_past_sla(*, session: AsyncSession, now: datetime) -> int:
    """How many open issues are past an SLA deadline (for the issues_past_sla gauge)."""
    return (await session.execute(
        select(func.count()).select_from(QualityIssue).where(_past_sla_condition(now)))).scalar_one()
