"""Telling 'a dependency is unavailable' apart from 'this request or message is wrong'."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes that mean the server or the connection went away, not that the work is wrong:
# 08 connection exception, 57P01-57P03 admin/crash shutdown and "cannot connect now", 53 resources.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53")


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__ or getattr(current, "orig", None)
    return found


# A transaction the server gave up on as a whole, nothing of it applied: a serialization failure (40001),
# a deadlock victim (40P01), a lock not available (55P03), a statement cancelled by its timeout (57014).
# Doing the same work again is safe: to a client "busy, retry"; to a consumer, not the message's fault.
_BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})


def is_busy(exc: BaseException) -> bool:
    """True when the database rolled the work back because of contention or its time limit, or no pooled
    connection came free in time (every connection busy): nothing was done; retry it."""
    return any(isinstance(current, PoolTimeout) or _sqlstate(current) in _BUSY_SQLSTATES for current in _chain(exc))


def is_invalid_data(exc: BaseException) -> bool:
    """True when the database refused a value as data (SQLSTATE class 22, or a value asyncpg
    could not encode: out of range, NUL in text, an unpaired surrogate) — the caller's input."""
    for current in _chain(exc):
        if isinstance(current, UnicodeError):
            return True
        state = _sqlstate(current)
        if state and state.startswith("22"):
            return True
        if type(current).__name__ == "DataError" and "invalid input for query argument" in str(current):
            return True
    return False


def is_unavailable(exc: BaseException) -> bool:
    """True when the failure is the database or network being unreachable (retry later)."""
    if is_invalid_data(exc):
        return False
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, OperationalError | InterfaceError | OSError | ConnectionError | TimeoutError):
            return True
        state = _sqlstate(current)
        if state and state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        name = type(current).__name__
        if name in {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError"}:
            return True
        current = current.__cause__ or current.__context__ or getattr(current, "orig", None)
    return False
