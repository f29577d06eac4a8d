"""Keyset pagination for the onsite lists that grow with the visit (logs, values, evidence, records)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.api.pagination import decode_cursor, encode_cursor


async def keyset_page(session: AsyncSession, stmt: Select, *, model: Any, at: Any, limit: int,
                      cursor: str | None) -> tuple[list[Any], str | None]:
    """Rows ordered by (`at`, id) after the cursor; the next cursor when more rows exist."""
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        stmt = stmt.where(tuple_(at, model.id) > tuple_(after_at, after_id))
    rows = list((await session.execute(stmt.order_by(at, model.id).limit(limit + 1))).scalars())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, at.key), last.id)
