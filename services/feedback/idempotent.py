"""`Idempotency-Key` on the call-centre tool's creating POSTs: the same key gives the same response.

The stored response and the state change commit in one transaction, so a retry after a lost
response finds the first result and creates nothing. Two requests with one key racing each
other wait on a transaction advisory lock of the key, so the second returns the first one's
response (the key's primary key is the last line of defence).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request, Response
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.api.auth import Principal, Role
from shared.api.idempotency import fingerprint, previous_response, remember_response
from shared.api.problems import PreconditionRequired
from shared.db import transaction

IdempotencyKey = Annotated[str | None, Header(
    min_length=8, max_length=128,
    description="A unique key per intended operation (e.g. a UUID); a retry with the same key and body "
                "returns the first response and changes nothing. Required for the call-centre tool.",
)]

Work = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def run_idempotent(
    *, sessions: async_sessionmaker[AsyncSession], request: Request, response: Response, principal: Principal,
    key: str | None, status_code: int, work: Work,
) -> dict[str, Any]:
    """Run `work` in one transaction, once per (caller, key); return its JSON body."""
    if key is None:
        if principal.has(Role.CALL_CENTRE_TOOL):
            raise PreconditionRequired("the call-centre tool must send an Idempotency-Key on this POST",
                                       field="Idempotency-Key")
        async with transaction(sessions) as session:
            body = await work(session)
        response.status_code = status_code
        return body
    request_hash = fingerprint(request.method, request.url.path, await request.body())
    failure: IntegrityError | None = None
    for _ in range(2):
        try:
            async with transaction(sessions) as session:
                # Serialise requests carrying the same key, so the second one sees the first's response.
                await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                                      {"k": f"idempotency:{principal.subject}:{key}"})
                previous = await previous_response(session, caller=principal.subject, key=key,
                                                   request_hash=request_hash)
                if previous is not None:
                    response.status_code = previous.status_code
                    response.headers["Idempotent-Replayed"] = "true"
                    return previous.response
                body = await work(session)
                remember_response(session, caller=principal.subject, key=key, request_hash=request_hash,
                                  status_code=status_code, response=body)
            response.status_code = status_code
            return body
        except IntegrityError as exc:
            failure = exc  # the same key committed concurrently: the next pass returns its response
    assert failure is not None
    raise failure
