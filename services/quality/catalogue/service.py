"""Failure-mode catalogue operations (never committing themselves)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.catalogue.models import FailureMode, FailureModeCreate, FailureModeUpdate
from shared.api.auth import Principal
from shared.api.concurrency import check_if_match
from shared.api.problems import Conflict, InvalidInput
from shared.api.resources import bump_version, get_or_404
from shared.clock import utcnow
from shared.messages import msg


async def require_known(*, session: AsyncSession, code: str) -> FailureMode:
    """S25: an issue names a failure mode of the catalogue; an unknown or retired one is 422 naming it."""
    mode = await session.get(FailureMode, code)
    if mode is None or not mode.active:
        raise InvalidInput(msg("unknown failure mode {code!r}: it is not in the failure-mode catalogue", code=code),
                           errors=[{"field": "failure_mode", "message": msg("unknown failure mode {code!r}", code=code),
                                    "type": "unknown_failure_mode"}])
    return mode


async def create(*, session: AsyncSession, body: FailureModeCreate, principal: Principal) -> FailureMode:
    if await session.get(FailureMode, body.code) is not None:
        raise Conflict(msg("failure mode {code!r} already exists", code=body.code))
    now = utcnow()
    mode = FailureMode(**body.model_dump(), created_at=now, created_by=principal.actor, updated_at=now,
                       updated_by=principal.actor)
    session.add(mode)
    return mode


async def update(*, session: AsyncSession, code: str, body: FailureModeUpdate, principal: Principal,
                 if_match: str | None) -> FailureMode:
    mode = await get_or_404(session, FailureMode, code, what=msg("failure mode"), for_update=True)
    check_if_match(if_match, mode.version)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(mode, name, value)
    bump_version(mode, principal.actor)
    return mode


async def list_all(*, session: AsyncSession, include_retired: bool) -> list[FailureMode]:
    stmt = select(FailureMode).order_by(col(FailureMode.code))
    if not include_retired:
        stmt = stmt.where(col(FailureMode.active).is_(True))
    return list((await session.execute(stmt)).scalars())
