"""Plausible times: every time a person reports on site is checked by the same rules (S8-S33).

A reported time (arrival, sign-in/out, witness signature, departure, receipt signature, ...) is refused
when it lies in the future beyond the allowed clock skew, before the visit was dispatched, or before
what the standard puts first (no sign-in before the arrival, no departure before the arrival or the
receipt, no receipt before the tasks are done). The refusal is `InvalidInput` naming the field and the
rule; the skew (`REPORTED_TIME_SKEW_S`) also tolerates a device clock slightly behind the server's.

Writes made offline and replayed later carry the client's time of the act (`occurred_at`, or the
standard's own field: `arrived_at`, `at`, `signed_at`, ...) beside the server's receipt time; the
standard's rules judge the act's time (decision 0091).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from shared.api.params import IsoDateTime
from shared.api.problems import InvalidInput
from shared.messages import msg

DEFAULT_SKEW = timedelta(minutes=5)

# The body field of a write recording an act on site that has no time of its own in the standard.
OccurredAt = Annotated[IsoDateTime | None, Field(
    description="When the act happened, on the client's clock (a client replaying writes queued offline sends "
                "the time of the act); default: when the server receives the write. The standard's rules judge "
                "this time; it may not be in the future (beyond the allowed clock skew), before the visit was "
                "dispatched, or before the arrival on site")]


@dataclass(frozen=True)
class Earlier:
    """Something the reported time must not precede: its name in the rule, and its time (None: not known)."""

    what: str
    at: datetime | None


def check_reported_time(*, step: str, field: str, at: datetime, now: datetime, dispatched_at: datetime | None,
                        after: Sequence[Earlier] = (), skew: timedelta = DEFAULT_SKEW) -> None:
    """Refuse an implausible reported time (`step`: e.g. "S33 departure"; `field`: the body field)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(msg("{step}: {field} needs a time zone (rule: reported times are instants)",
            step=step, field=field), field=field)
    if at > now + skew:
        raise InvalidInput(msg("{step}: {field} {at} is in the future (rule: no reported time later than now plus "
            "the allowed clock skew of {skew} s)",
            step=step, field=field, at=at.isoformat(), skew=int(skew.total_seconds())),
                           field=field)
    if dispatched_at is not None and at < dispatched_at - skew:
        raise InvalidInput(msg("{step}: {field} {at} is before the visit was dispatched at {dispatched_at} (rule: "
            "nothing on site before the dispatch)",
            step=step, field=field, at=at.isoformat(), dispatched_at=dispatched_at.isoformat()),
                           field=field)
    for earlier in after:
        if earlier.at is not None and at < earlier.at:
            raise InvalidInput(msg("{step}: {field} {at} is before {what} at {at2} (rule: in the order of the "
                "standard)",
                step=step, field=field, at=at.isoformat(), what=earlier.what, at2=earlier.at.isoformat()),
                               field=field)


def act_time(occurred_at: datetime | None, received_at: datetime) -> datetime:
    """S8-S33: the time of an act for the standard's rules (the S10 site day, the S14 day's checklist, ...):
    the client's `occurred_at` when it sent one (the act may have been queued offline), else the receipt."""
    return occurred_at if occurred_at is not None else received_at


def latest(times: Sequence[datetime | None]) -> datetime | None:
    """The latest of some times (None when none is known)."""
    known = [t for t in times if t is not None]
    return max(known) if known else None
