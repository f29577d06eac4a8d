"""Classifying failures: unavailable (retry) versus invalid data (the caller's fault)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.errors import is_busy, is_invalid_data, is_unavailable


class FakePgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def wrapped(sqlstate: str) -> DBAPIError:
    return DBAPIError("stmt", {}, FakePgError(sqlstate))


def test_connection_failures_are_unavailable():
    assert is_unavailable(OperationalError("stmt", {}, Exception("down")))
    assert is_unavailable(ConnectionRefusedError())
    assert is_unavailable(wrapped("08006")) and is_unavailable(wrapped("57P01")) and is_unavailable(wrapped("57P03"))
    assert not is_unavailable(wrapped("23505"))


def test_data_exceptions_are_the_callers_fault_not_an_outage():
    for state in ("22021", "22003", "22P05", "22001"):
        assert is_invalid_data(wrapped(state)) and not is_unavailable(wrapped(state))
    assert is_invalid_data(UnicodeEncodeError("utf-8", "\udb69", 0, 1, "surrogates not allowed"))
    assert not is_invalid_data(wrapped("23505"))


def test_contention_and_time_limits_are_busy_not_a_bug():
    """A deadlock victim, a serialization failure, a lock not available or a statement over its time limit
    rolled the work back whole: retry (503 to a client, a retry to a consumer), not a 500."""
    for state in ("40P01", "40001", "55P03", "57014"):
        assert is_busy(wrapped(state)) and not is_invalid_data(wrapped(state))
    assert not is_busy(wrapped("23505")) and not is_busy(wrapped("08006"))
    assert is_busy(PoolTimeout("QueuePool limit of size 10 overflow 10 reached, connection timed out"))


def test_a_busy_database_answers_503_with_retry_after_not_500():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from shared.api.problems import install_problem_handlers

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/deadlocked")
    async def deadlocked() -> None:
        raise wrapped("40P01")

    r = TestClient(app).get("/deadlocked")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["type"].endswith("/service-unavailable") and "nothing was applied" in r.json()["detail"]
