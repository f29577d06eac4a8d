"""Pure rules of follow-up calls (S34): when a call is due, who holds it, what an attempt leads to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.messages import msg
from shared.problems import Conflict, Forbidden, GateRefused, InvalidInput


@dataclass(frozen=True)
class CallingWindow:
    """The hours (local time) on the days when customers may be phoned."""

    start: time
    end: time
    timezone: ZoneInfo
    weekdays: frozenset[int]

    def __post_init__(self) -> None:
        if self.start >= self.end or not self.weekdays:
            raise ValueError("a calling window needs start < end and at least one weekday")

    def next_open(self, moment: datetime) -> datetime:
        """`moment` if customers may be called then, else the next opening of the window (UTC)."""
        local = moment.astimezone(self.timezone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            opens = datetime.combine(day, self.start, self.timezone)
            closes = datetime.combine(day, self.end, self.timezone)
            if offset == 0 and local >= closes:
                continue
            if offset == 0 and local >= opens:
                return moment.astimezone(UTC)
            return opens.astimezone(UTC)
        raise AssertionError("unreachable: a window with a weekday opens within a week")


class CallHeld(Conflict):
    """S34: another agent holds the call's lease (the response names them and when the lease ends)."""

    slug, title = "call-held", "Call held by another agent"


class CallNotDue(Conflict):
    """S34: the call is not due yet (the response says when it will be)."""

    slug, title = "call-not-due", "Call not due yet"


def add_business_days(start: datetime, days: int, window: CallingWindow) -> datetime:
    """S34: `days` calling days after `start`, counted on the calling window's local calendar.

    A start on a day when customers are not called rolls to the next calling day first; the local
    time of day is kept (the window then moves it inside the calling hours).
    """
    local = start.astimezone(window.timezone)
    day = local.date()
    while day.weekday() not in window.weekdays:
        day += timedelta(days=1)
    added = 0
    while added < days:
        day += timedelta(days=1)
        if day.weekday() in window.weekdays:
            added += 1
    if day == local.date():
        return start
    return datetime.combine(day, local.time(), window.timezone).astimezone(UTC)


class CallReason(StrEnum):
    SERVICE_COMPLETED = "service_completed"
    ISSUE_CLOSED = "issue_closed"


def call_priority(reason: CallReason, receipt_rating: int | None) -> int:
    """Higher first: a poor receipt rating, then a fix confirmation, then routine rating calls."""
    if receipt_rating is not None and receipt_rating <= 2:
        return 3
    if reason is CallReason.ISSUE_CLOSED:
        return 2
    return 1


def schedule_due_at(event_time: datetime, delay_business_days: int, window: CallingWindow) -> datetime:
    """S34: the call is due `delay_business_days` working days later, inside the calling window."""
    return window.next_open(add_business_days(event_time, delay_business_days, window))


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with 'Z', as the API's JSON bodies show times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Leases -------------------------------------------------------------------------------------


def current_holder(claimed_by: str | None, lease_expires_at: datetime | None, now: datetime) -> str | None:
    """The agent whose lease is still running, if any (an expired lease holds nothing)."""
    if claimed_by is None or lease_expires_at is None or lease_expires_at <= now:
        return None
    return claimed_by


def check_claim(*, status: str, due_at: datetime, holder: str | None, lease_expires_at: datetime | None,
                agent: str, now: datetime) -> None:
    """S34: two agents never phone the same customer: a call held by another agent is refused (409)."""
    if status != "scheduled":
        raise Conflict(msg("the call is {status}; only scheduled calls can be claimed",
            status=status), status_of_call=status)
    if holder is not None and holder != agent:
        until = iso(lease_expires_at) if lease_expires_at else None
        raise CallHeld(msg("the call is held by {holder} until {until}",
            holder=holder, until=until), held_by=holder, lease_expires_at=until)
    if due_at > now:
        raise CallNotDue(msg("the call is not due before {due_at}", due_at=iso(due_at)), due_at=iso(due_at))


def check_holds(*, holder: str | None, agent: str) -> None:
    """Only the agent holding a running lease records attempts, answers and the outcome (403)."""
    if holder != agent:
        raise Forbidden(msg("you do not hold this call: claim it first") if holder is None
                        else msg("this call is held by another agent"))


# --- Attempts and retries ---------------------------------------------------------------------------


class AttemptResult(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    CALL_BACK = "call_back"


@dataclass(frozen=True)
class RetryRules:
    """E.g. three unanswered attempts within two days, at least four hours apart, then unreachable."""

    max_attempts: int
    retry_after: timedelta
    give_up_after: timedelta


class AfterAttempt(StrEnum):
    HOLD = "hold"              # reached: the agent keeps the call for the survey and the outcome
    RETRY = "retry"            # back in the queue at `next_due_at`
    UNREACHABLE = "unreachable"  # closed: the retries are used up


@dataclass(frozen=True)
class AttemptDecision:
    action: AfterAttempt
    next_due_at: datetime | None = None
    reason: str = ""


def decide_after_attempt(
    *, result: AttemptResult, unanswered: int, first_attempt_at: datetime, now: datetime,
    call_back_at: datetime | None, rules: RetryRules, window: CallingWindow,
) -> AttemptDecision:
    """S34 retry rules. `unanswered` counts the no-answer attempts including this one."""
    if result is AttemptResult.REACHED:
        return AttemptDecision(AfterAttempt.HOLD)
    if result is AttemptResult.WRONG_NUMBER:
        return AttemptDecision(AfterAttempt.UNREACHABLE, reason="wrong number")
    if result is AttemptResult.CALL_BACK:
        if call_back_at is None or call_back_at <= now:
            raise InvalidInput(msg("call_back needs a call_back_at in the future"), field="call_back_at")
        return AttemptDecision(AfterAttempt.RETRY, next_due_at=call_back_at)
    if unanswered >= rules.max_attempts:
        return AttemptDecision(AfterAttempt.UNREACHABLE, reason=f"{unanswered} attempts without answer")
    next_due = window.next_open(now + rules.retry_after)
    if next_due > first_attempt_at + rules.give_up_after:
        return AttemptDecision(AfterAttempt.UNREACHABLE, reason="no attempt possible within the retry period")
    return AttemptDecision(AfterAttempt.RETRY, next_due_at=next_due)


def retry_period_over(*, first_attempt_at: datetime | None, now: datetime, rules: RetryRules) -> bool:
    """A call tried but never reached within the retry period is closed as unreachable."""
    return first_attempt_at is not None and now >= first_attempt_at + rules.give_up_after


def check_outcome_gate(*, reached: bool, survey_answered: bool, outcome: str) -> None:
    """S34: an outcome needs the customer reached, and a 'reached' outcome needs the survey answers."""
    missing = []
    if not reached:
        missing.append(msg("an attempt that reached the customer"))
    if outcome == "reached" and not survey_answered:
        missing.append(msg("the customer's survey answers for this call (or the outcome 'declined')"))
    if missing:
        raise GateRefused(msg("S34 follow-up call outcome"), missing)
