"""Keyset pagination: an opaque cursor holding the last row's sort key."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, inspect, tuple_
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.api.problems import InvalidInput
from shared.messages import msg

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)
Shown = TypeVar("Shown", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = None


def page_of(model: type[Shown], rows: Iterable[object], next_cursor: str | None) -> Page[Shown]:
    """A page of rows as the API shows them (`model` read from each row's attributes)."""
    return Page(items=[model.model_validate(r) for r in rows], next_cursor=next_cursor)


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created), UUID(row_id)
    except Exception:
        raise InvalidInput(msg("cursor is not valid"), field="cursor") from None


S = TypeVar("S", bound=Select[Any])


def where_given(stmt: S, *filters: tuple[Any, object]) -> S:
    """`stmt` narrowed by each (column, value) filter of a list; a filter the caller did not give (None) is none."""
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


async def keyset_page(session: AsyncSession, stmt: Select[Any], *, model: type[M], at: Any, limit: int,
                      cursor: str | None, newest_first: bool = False) -> tuple[list[M], str | None]:
    """One page of `stmt`'s rows of `model` in (`at`, primary key) order, oldest first unless `newest_first`,
    after the cursor; with the next cursor only when another row exists (never a cursor to an empty page).

    The cursor is compared as a row value, `(at, id) > (x, y)`, not `at > x OR (at = x AND id > y)`:
    PostgreSQL turns it into a range of the (at, id) index and starts the scan at the cursor.
    """
    mapper = inspect(model)
    key = mapper.primary_key[0]
    if cursor:
        after = tuple_(*decode_cursor(cursor))
        stmt = stmt.where(tuple_(at, key) < after if newest_first else tuple_(at, key) > after)
    order = (at.desc(), key.desc()) if newest_first else (at, key)
    rows = list((await session.execute(stmt.order_by(*order).limit(limit + 1))).scalars())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, at.key), getattr(last, mapper.get_property_by_column(key).key))


PageSize = Annotated[int, Query(ge=1, le=200, description="Items per page (at most 200)")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")]
