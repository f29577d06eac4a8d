"""The one clock of the services' domain code: aware UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (what every `timestamptz` column stores)."""
    return datetime.now(UTC)


def instants(now: datetime, count: int) -> list[datetime]:
    """`count` instants a microsecond apart, the last at `now`: rows written together (one consumed batch)
    keep their order in a time column that lists or sends them, and are all due by `now`."""
    return [now - timedelta(microseconds=count - 1 - i) for i in range(count)]


def timestamp() -> float:
    """Now, as seconds since the epoch (signature windows, token expiry, ages)."""
    return utcnow().timestamp()
