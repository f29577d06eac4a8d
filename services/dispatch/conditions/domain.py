"""Pure rules of S2: when conditions count as confirmed and when a postponement is due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.dispatch.conditions.models import ConditionCall


def latest(calls: Sequence[ConditionCall]) -> ConditionCall | None:
    """The most recently recorded call (the order of recording, not the stated call time, decides)."""
    return max(calls, key=lambda c: c.created_at, default=None)


def conditions_confirmed(calls: Sequence[ConditionCall]) -> bool:
    """S2 holds when the most recent condition call confirmed the conditions."""
    last = latest(calls)
    return last is not None and last.outcome == "confirmed"


def postponement_due(call: ConditionCall, today: date) -> bool:
    """S2: a postponement is due on its agreed date (and stays due until someone calls again)."""
    return call.outcome == "postponed" and call.new_date is not None and call.new_date <= today
