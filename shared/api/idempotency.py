"""`Idempotency-Key` for creating POSTs from machine clients (CRM, call-centre tool).

The first request's response is stored with the key (per caller); a retry with the same key
and the same body gets that response again, a retry with another body is refused.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.api.problems import InvalidInput


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"

    caller: str = Field(sa_column=Column(String(128), primary_key=True))
    key: str = Field(sa_column=Column(String(128), primary_key=True))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    status_code: int
    response: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    # None until the row is written: the database sets it (NOT NULL, `now()`)
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


async def previous_response(
    session: AsyncSession, *, caller: str, key: str, request_hash: str
) -> IdempotencyRecord | None:
    """The stored response for this key, or None; refuses a key reused for another request."""
    record = await session.get(IdempotencyRecord, (caller, key))
    if record is not None and record.request_hash != request_hash:
        raise InvalidInput("Idempotency-Key was already used with a different request", field="Idempotency-Key")
    return record


def remember_response(
    session: AsyncSession, *, caller: str, key: str, request_hash: str, status_code: int, response: dict[str, Any]
) -> None:
    session.add(IdempotencyRecord(caller=caller, key=key, request_hash=request_hash,
                                  status_code=status_code, response=response))
