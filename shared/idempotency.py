"""`Idempotency-Key` on every POST of every service (decision 0095): the record and its reservation.

A request carrying a key is applied once per (caller, key). Its first unit of work holds the key's
lock (`claim`, as `shared.db.transaction` begins) and records the key as used in its own commit
(`reserve`, just before it commits), so the state change and "this key was used" commit together or
not at all; the response is stored on the record once it is known (`shared.api.idempotency`). A
retry then finds the stored response; a retry after the commit but before the response was stored
(the process died in between) finds the reservation alone and is told the request was applied,
never applied twice. No web layer here: the database layer imports this module.
"""

from __future__ import annotations

import asyncio
import hashlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.messages import msg
from shared.problems import Conflict

# status_code of a record reserved by the applying transaction whose response is not stored yet
RESERVED = 0


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
    """What makes two requests 'the same': method, path with query, and body bytes."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class KeyInUse(Conflict):
    """Two requests with one key raced: the other one was applied first; this one changes nothing
    (its transaction rolls back) and is answered the other's response once it is stored."""

    slug, title = "idempotency-key-in-use", msg("Idempotency-Key in use")

    def __init__(self, detail: str, *, caller: str, key: str) -> None:
        super().__init__(detail, field="Idempotency-Key")
        self.caller, self.key = caller, key


@dataclass
class PendingKey:
    """The key of the request being handled; `reserved` once a transaction of it committed the record."""

    caller: str
    key: str
    request_hash: str
    task: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)
    reserved: bool = False


pending_key: ContextVar[PendingKey | None] = ContextVar("pending_idempotency_key", default=None)


async def claim(session: AsyncSession) -> PendingKey | None:
    """Called by `shared.db.transaction` as it begins: the first unit of work of a keyed request holds the
    key's lock to its end, so two requests with one key run one after the other, and the second stops
    here (`KeyInUse`, answered the first one's response) instead of applying the request again.
    Returns the key to reserve at commit, None when there is nothing to do."""
    pending = pending_key.get()
    # Only the request's own task: a task it started copies the context but is not the request.
    if pending is None or pending.reserved or pending.task is not asyncio.current_task():
        return None
    lock_name = f"idempotency:{pending.caller}:{pending.key}"
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": lock_name})
    existing = (await session.execute(
        text("SELECT 1 FROM idempotency_record WHERE caller = :c AND key = :k"),
        {"c": pending.caller, "k": pending.key})).first()
    if existing is not None:
        raise KeyInUse(msg("another request with this Idempotency-Key was applied first; retry it to get that "
                           "request's response"), caller=pending.caller, key=pending.key)
    return pending


async def reserve(session: AsyncSession, pending: PendingKey) -> None:
    """Called by `shared.db.transaction` just before it commits: the key is used by this commit."""
    session.add(IdempotencyRecord(caller=pending.caller, key=pending.key, request_hash=pending.request_hash,
                                  status_code=RESERVED, response={}))
    await session.flush()
