"""The call-centre tool's creating POSTs: an `Idempotency-Key` is required of it.

Every POST of every service accepts the key (`shared.api.idempotency`, decision 0095): a retry
with the same key gets the first response and changes nothing. The call-centre tool retries on
its own, so for it the key is not optional (428 without one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Response
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.api.auth import Principal, Role
from shared.api.idempotency import IdempotencyKey as IdempotencyKey
from shared.api.problems import PreconditionRequired
from shared.db import transaction
from shared.messages import msg

Work = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def run_idempotent(
    *, sessions: async_sessionmaker[AsyncSession], response: Response, principal: Principal,
    key: str | None, status_code: int, work: Work,
) -> dict[str, Any]:
    """Run `work` in one unit of work (which reserves the request's key, if any); its JSON body."""
    if key is None and principal.has(Role.CALL_CENTRE_TOOL):
        raise PreconditionRequired(msg("the call-centre tool must send an Idempotency-Key on this POST"),
                                   field="Idempotency-Key")
    async with transaction(sessions) as session:
        body = await work(session)
    response.status_code = status_code
    return body
