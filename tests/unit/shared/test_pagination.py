"""One keyset pagination: row comparisons, and a next cursor only when another row exists."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from services.quality.repairs.models import RepairOrder
from shared.api.pagination import decode_cursor, encode_cursor, keyset_page, where_given

AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class _Result:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def scalars(self) -> list[Any]:
        return self._rows


class _Session:
    """Answers with the rows the statement's LIMIT allows, and keeps the SQL it was asked."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        self.sql: list[str] = []
        self.limits: list[int] = []

    async def execute(self, stmt: Any) -> _Result:
        compiled = stmt.compile(dialect=postgresql.dialect())
        self.sql.append(str(compiled))
        limit = compiled.params[re.search(r"LIMIT %\((\w+)\)s", str(compiled))[1]]
        self.limits.append(limit)
        return _Result(self.rows[:limit])


def _orders(n: int) -> list[RepairOrder]:
    return [RepairOrder(id=UUID(int=i), created_at=AT + timedelta(minutes=i)) for i in range(n)]


async def test_a_full_last_page_gives_no_cursor_to_an_empty_page():
    session = _Session(_orders(2))
    rows, nxt = await keyset_page(session, select(RepairOrder), model=RepairOrder,
                                  at=col(RepairOrder.created_at), limit=2, cursor=None)
    assert [r.id for r in rows] == [UUID(int=0), UUID(int=1)] and nxt is None
    assert session.limits == [3]  # one row more than the page, to know whether another exists


async def test_more_rows_give_the_cursor_of_the_pages_last_row():
    session = _Session(_orders(3))
    rows, nxt = await keyset_page(session, select(RepairOrder), model=RepairOrder,
                                  at=col(RepairOrder.created_at), limit=2, cursor=None)
    assert [r.id for r in rows] == [UUID(int=0), UUID(int=1)]
    assert nxt is not None and decode_cursor(nxt) == (AT + timedelta(minutes=1), UUID(int=1))


async def test_the_cursor_is_a_row_comparison_in_the_pages_order():
    cursor = encode_cursor(AT, UUID(int=7))
    oldest = _Session([])
    await keyset_page(oldest, select(RepairOrder), model=RepairOrder, at=col(RepairOrder.created_at), limit=5,
                      cursor=cursor)
    assert "(repair_order.created_at, repair_order.id) > (" in oldest.sql[0]
    assert "ORDER BY repair_order.created_at, repair_order.id" in oldest.sql[0]
    assert " OR " not in oldest.sql[0]
    newest = _Session([])
    await keyset_page(newest, select(RepairOrder), model=RepairOrder, at=col(RepairOrder.created_at), limit=5,
                      cursor=cursor, newest_first=True)
    assert "(repair_order.created_at, repair_order.id) < (" in newest.sql[0]
    assert "ORDER BY repair_order.created_at DESC, repair_order.id DESC" in newest.sql[0]


def test_where_given_narrows_only_by_the_filters_given():
    stmt = where_given(select(RepairOrder), (col(RepairOrder.status), "received"), (col(RepairOrder.case_id), None),
                       (col(RepairOrder.receipt_number), ""))
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert "repair_order.status = " in sql and "repair_order.receipt_number = " in sql
    assert "repair_order.case_id" not in sql.split("WHERE", 1)[1]  # None: not filtered
