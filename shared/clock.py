"""The one clock of the services' domain code: aware UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (what every `timestamptz` column stores)."""
    return datetime.now(UTC)


def timestamp() -> float:
    """Now, as seconds since the epoch (signature windows, token expiry, ages)."""
    return utcnow().timestamp()
