"""Roster operations (plain async functions; the router's unit of work commits)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.engineers.models import Engineer, EngineerCreate, EngineerUpdate
from shared.api.concurrency import check_if_match
from shared.api.problems import Conflict
from shared.api.resources import bump_version, get_or_404
from shared.clock import utcnow
from shared.messages import msg


async def get(*, session: AsyncSession, engineer_id: str, for_update: bool = False) -> Engineer:
    return await get_or_404(session, Engineer, engineer_id, what=msg("engineer"), for_update=for_update)


async def get_many(*, session: AsyncSession, engineer_ids: list[str]) -> dict[str, Engineer]:
    rows = (await session.execute(select(Engineer).where(col(Engineer.id).in_(engineer_ids)))).scalars()
    return {e.id: e for e in rows}


async def create(*, session: AsyncSession, body: EngineerCreate, actor: str) -> Engineer:
    if (await session.execute(select(col(Engineer.id)).where(col(Engineer.id) == body.id))).first():
        raise Conflict(msg("engineer {id} already exists", id=body.id))
    now = utcnow()
    data = body.model_dump(mode="json")
    engineer = Engineer(**data, created_at=now, created_by=actor, updated_at=now, updated_by=actor)
    session.add(engineer)
    return engineer


async def update(*, session: AsyncSession, engineer_id: str, body: EngineerUpdate, actor: str,
                 if_match: str | None) -> Engineer:
    engineer = await get(session=session, engineer_id=engineer_id, for_update=True)
    check_if_match(if_match, engineer.version)
    for key, value in body.model_dump(mode="json").items():
        setattr(engineer, key, value)
    bump_version(engineer, actor)
    return engineer


async def list_engineers(*, session: AsyncSession, region: str | None, equipment_type: str | None,
                         min_grade: int | None, limit: int, after: str | None) -> list[Engineer]:
    """Keyset-paginated by id."""
    stmt = select(Engineer).where(col(Engineer.active).is_(True))
    if region:
        stmt = stmt.where(col(Engineer.home_region) == region)
    if min_grade:
        stmt = stmt.where(col(Engineer.grade) >= min_grade)
    if equipment_type:
        stmt = stmt.where(col(Engineer.skills).contains([{"equipment_type": equipment_type}]))
    if after:
        stmt = stmt.where(col(Engineer.id) > after)
    return list((await session.execute(stmt.order_by(col(Engineer.id)).limit(limit))).scalars())


async def deactivate(*, session: AsyncSession, engineer_id: str, actor: str, if_match: str | None) -> Engineer:
    engineer = await get(session=session, engineer_id=engineer_id, for_update=True)
    check_if_match(if_match, engineer.version)
    engineer.active = False
    bump_version(engineer, actor)
    return engineer
