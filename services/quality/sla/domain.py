"""Pure SLA clock rules: deadlines that move with pauses, warning and breach thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

ClockState = Literal["met", "paused", "running", "warning", "breached"]


@dataclass(frozen=True)
class SlaClock:
    """One clock of an issue (response or resolution).

    The deadline is start + target + time spent paused; while paused it neither warns nor breaches.
    """

    started_at: datetime
    target: timedelta
    warning_percent: int
    paused_for: timedelta = timedelta(0)
    paused_since: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def due_at(self) -> datetime:
        return self.started_at + self.target + self.paused_for

    @property
    def warn_at(self) -> datetime:
        return self.started_at + self.target * (self.warning_percent / 100) + self.paused_for

    def state(self, now: datetime) -> ClockState:
        if self.stopped_at is not None:
            return "met" if self.stopped_at <= self.due_at else "breached"
        if self.paused_since is not None:
            return "paused"
        if now >= self.due_at:
            return "breached"
        if now >= self.warn_at:
            return "warning"
        return "running"


def resumed(paused_for: timedelta, paused_since: datetime, now: datetime) -> timedelta:
    """The total paused time after a pause that started at `paused_since` ends at `now`."""
    return paused_for + max(now - paused_since, timedelta(0))
