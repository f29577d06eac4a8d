"""The service's clock: injectable so tests control lease expiry, due calls and retries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request

from shared.clock import utcnow


class Clock:
    """Wall-clock time, or a fixed time a test sets and advances."""

    def __init__(self, fixed: datetime | None = None) -> None:
        self._fixed = fixed

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else utcnow()

    def set(self, moment: datetime | None) -> None:
        """Fix the time (None returns to the wall clock)."""
        self._fixed = moment

    def advance(self, delta: timedelta) -> datetime:
        self._fixed = self.now() + delta
        return self._fixed


async def current_time(request: Request) -> datetime:
    """Dependency: the time of this request by the app's clock."""
    return request.app.state.clock.now()


Now = Annotated[datetime, Depends(current_time)]
