"""One get-or-404 and one version bump for every service's resources."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from services.quality.catalogue.models import FailureMode
from shared.api.problems import NotFound
from shared.api.resources import bump_version, get_or_404

AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class _Result:
    def __init__(self, row: Any) -> None:
        self._row = row

    def scalar_one_or_none(self) -> Any:
        return self._row


class _Session:
    """Answers every statement with one row (or none) and keeps the SQL it was asked."""

    def __init__(self, row: Any) -> None:
        self.row = row
        self.sql: list[str] = []

    async def execute(self, stmt: Any) -> _Result:
        self.sql.append(str(stmt.compile(dialect=postgresql.dialect())))
        return _Result(self.row)


def _mode() -> FailureMode:
    return FailureMode(code="leak", name="Leak", created_at=AT, created_by="a", updated_at=AT, updated_by="a")


async def test_found_row_is_returned_by_its_primary_key():
    mode = _mode()
    session = _Session(mode)
    assert await get_or_404(session, FailureMode, "leak", what="failure mode") is mode
    assert "WHERE failure_mode.code = " in session.sql[0]
    assert "FOR UPDATE" not in session.sql[0]


async def test_for_update_locks_the_row_and_within_narrows_to_the_parent():
    session = _Session(_mode())
    await get_or_404(session, FailureMode, "leak", what="failure mode",
                     within=col(FailureMode.active).is_(True), for_update=True)
    assert "failure_mode.active IS true" in session.sql[0]
    assert session.sql[0].endswith("FOR UPDATE")


async def test_missing_row_is_a_404_naming_it_and_its_parent():
    with pytest.raises(NotFound) as missing:
        await get_or_404(_Session(None), FailureMode, "rust", what="failure mode")
    assert str(missing.value.detail) == "failure mode rust does not exist"
    with pytest.raises(NotFound) as elsewhere:
        await get_or_404(_Session(None), FailureMode, "rust", what="failure mode",
                         where="on this visit")
    assert str(elsewhere.value.detail) == "failure mode rust does not exist on this visit"


def test_bump_version_moves_the_etag_and_records_who_and_when():
    mode = _mode()
    bump_version(mode, "user:b", at=AT.replace(year=2031))
    assert (mode.version, mode.updated_by, mode.updated_at) == (2, "user:b", AT.replace(year=2031))


def test_bump_version_defaults_to_the_shared_clock(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("shared.api.resources.utcnow", lambda: AT)
    resource = SimpleNamespace(version=7, updated_at=None, updated_by="")
    bump_version(resource, "user:c")
    assert (resource.version, resource.updated_at, resource.updated_by) == (8, AT, "user:c")
