"""Telling 'a dependency is unavailable' apart from 'this request or message is wrong'."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATE classes that mean the server or the connection went away, not that the work is wrong:
# 08 connection exception, 57P01-57P03 admin/crash shutdown and "cannot connect now", 53 resources.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53")


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


def is_unavailable(exc: BaseException) -> bool:
    """True when the failure is the database or network being unreachable (retry later)."""
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
        if name in {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
                    "InterfaceError", "InternalClientError"}:
            return True
        current = current.__cause__ or current.__context__ or getattr(current, "orig", None)
    return False
