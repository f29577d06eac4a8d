"""Reading the changes feed: plain async functions on a session (decision 0091)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.sync import domain
from services.onsite.sync.models import ChangeRead, ChangesPage, VisitChange
from services.onsite.visits.models import SiteVisit


async def visit_ids_of(session: AsyncSession, engineer_id: str, region: str | None) -> list[UUID]:
    """The visits whose team lists the engineer (of one region, for a regional centre)."""
    stmt = select(col(SiteVisit.id)).where(col(SiteVisit.engineer_ids).contains([engineer_id]))
    if region is not None:
        stmt = stmt.where(col(SiteVisit.region) == region)
    return list((await session.execute(stmt)).scalars())


def read(change: VisitChange) -> ChangeRead:
    return ChangeRead(visit_id=change.visit_id, what=change.what, entity_kind=change.entity_kind,
                      entity_id=change.entity_id, actor=change.actor, recorded_at=change.recorded_at,
                      event_id=change.event_id, data=change.data, link=domain.link_of(change.visit_id,
                                                                                     change.entity_kind))


async def changes(*, session: AsyncSession, visit_ids: Sequence[UUID], since: str | None,
                  limit: int) -> ChangesPage:
    """The changes of these visits after the `since` cursor, in commit order, `limit` at most."""
    after = domain.decode_cursor(since)
    rows: list[VisitChange] = []
    if visit_ids:
        rows = list((await session.execute(
            select(VisitChange).where(col(VisitChange.visit_id).in_(visit_ids), col(VisitChange.seq) > after)
            .order_by(col(VisitChange.seq)).limit(limit + 1))).scalars())
    position, following = domain.page_cursors([r.seq or 0 for r in rows], since=after, limit=limit)
    return ChangesPage(
        items=[read(r) for r in rows[:limit]],
        next_cursor=domain.encode_cursor(following) if following is not None else None,
        cursor=domain.encode_cursor(position))
