"""Pure rules of S2: when conditions count as confirmed and when a postponement is due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol, TypeVar

from shared.messages import msg
from shared.problems import GateRefused


class ConditionCall(Protocol):
    """What the S2 rules read of a recorded condition call (the table row has more)."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def outcome(self) -> str: ...
    @property
    def new_date(self) -> date | None: ...


Call = TypeVar("Call", bound=ConditionCall)


def latest(calls: Sequence[Call]) -> Call | None:
    """The most recently recorded call (the order of recording, not the stated call time, decides)."""
    return max(calls, key=lambda c: c.created_at, default=None)


def conditions_confirmed(calls: Sequence[ConditionCall]) -> bool:
    """S2 holds when the most recent condition call confirmed the conditions."""
    last = latest(calls)
    return last is not None and last.outcome == "confirmed"


def postponement_due(call: ConditionCall, today: date) -> bool:
    """S2: a postponement is due on its agreed date (and stays due until someone calls again)."""
    return call.outcome == "postponed" and call.new_date is not None and call.new_date <= today


def check_call_allowed(case_status: str) -> None:
    """S2: conditions are confirmed (or postponed) for an acknowledged request only (S1 first)."""
    if case_status != "acknowledged":
        raise GateRefused(msg("service conditions"), [
            msg("S1: the request is not acknowledged (the case is {case_status})", case_status=case_status)])
