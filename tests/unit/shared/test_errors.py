"""Classifying failures: unavailable (retry) versus invalid data (the caller's fault)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from shared.errors import is_invalid_data, is_unavailable


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
