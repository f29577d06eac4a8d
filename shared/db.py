"""Async database access: one engine per service, and a unit of work that commits once.

Service functions add rows and domain events to the unit of work; only the unit of work
commits, so the state change and its outbox rows land in one transaction or not at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
from sqlalchemy import Column, DateTime, Table, inspect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import idempotency
from shared.errors import is_unavailable
from shared.settings import ServiceSettings


def timestamptz() -> DateTime:
    """The column type of every instant: `timestamp with time zone`."""
    return DateTime(timezone=True)


def timestamptz_column(*, nullable: bool) -> Column:
    """A `timestamptz` column for a SQLModel field's `sa_column`."""
    return Column(timestamptz(), nullable=nullable)


class Versioned(SQLModel):
    """The columns of a row changed under If-Match: its version (the ETag), when it was made, and its last
    change (when, by whom). Column types, not columns, so each table gets its own."""

    version: int = 1
    created_at: datetime = SQLField(sa_type=timestamptz(), nullable=False)
    updated_at: datetime = SQLField(sa_type=timestamptz(), nullable=False)
    updated_by: str


def table_of(model: type[SQLModel]) -> Table:
    """The Core table a `table=True` model maps, for plain Core statements (SQLModel does not
    declare `__table__` to the type checker)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)  # a table model maps exactly one Table
    return table


def make_engine(settings: ServiceSettings) -> AsyncEngine:
    """The service's async engine (asyncpg), with a statement timeout on every connection."""
    assert settings.database_url is not None  # the settings' validator fills it in
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # no ping round trip per checkout: a dropped connection fails one request (503) and the
        # pool is invalidated (decision 0064)
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": settings.service_name,
                "timezone": "UTC",
            },
            "timeout": 5,
        },
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: yields a session, commits on success, rolls back on any error.

    The first unit of work of a request carrying an `Idempotency-Key` reserves the key in the same
    commit (`shared.idempotency`), so the change and the key's use land together or not at all."""
    async with sessions() as session:
        async with session.begin():
            keyed = await idempotency.claim(session)
            yield session
            if keyed is not None:
                await idempotency.reserve(session, keyed)
        if keyed is not None:
            keyed.reserved = True


@asynccontextmanager
async def one_statement(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[asyncpg.Connection]:
    """A unit of work that is one statement, on the driver's connection (decision 0098).

    PostgreSQL applies a statement sent outside a transaction block all or nothing, so a write that
    fits in one statement (data-modifying CTEs included: a row and its outbox row) needs no BEGIN and
    COMMIT round trips and none of the session's machinery. The connection comes from the sessions'
    pool (same server settings, statement timeout included); one the server dropped is invalidated so
    the pool does not hand it out again. A request carrying an `Idempotency-Key` is not one statement
    (its key is reserved in the same commit): it takes `transaction`."""
    engine = sessions.kw["bind"]
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        try:
            yield raw.driver_connection
        except BaseException as exc:
            if is_unavailable(exc):
                await conn.invalidate()
            raise
