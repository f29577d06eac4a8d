"""Follow-up call rules (S34), without a server: calling window, leases, retries, the outcome gate."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.feedback.calls.domain import (
    AfterAttempt,
    AttemptResult,
    CallHeld,
    CallingWindow,
    CallNotDue,
    CallReason,
    RetryRules,
    add_business_days,
    call_priority,
    check_claim,
    check_holds,
    check_outcome_gate,
    current_holder,
    decide_after_attempt,
    retry_period_over,
    schedule_due_at,
)
from shared.api.problems import Conflict, Forbidden, GateRefused, InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
WINDOW = CallingWindow(time(9), time(18), SHANGHAI, frozenset(range(5)))
RULES = RetryRules(max_attempts=3, retry_after=timedelta(hours=4), give_up_after=timedelta(hours=48))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Shanghai in the week of Monday 30 November 2026 (day 0 = Monday)."""
    return datetime(2026, 11, 30, hour, minute, tzinfo=SHANGHAI) + timedelta(days=day)


EVERY_DAY = CallingWindow(time(0), time(23, 59), SHANGHAI, frozenset(range(7)))
MON_TO_SAT = CallingWindow(time(9), time(18), SHANGHAI, frozenset(range(6)))


@pytest.mark.parametrize(("start", "days", "window", "expected"), [
    (datetime(2026, 11, 27, 9, tzinfo=UTC), 2, WINDOW, datetime(2026, 12, 1, 9, tzinfo=UTC)),   # Fri + 2 -> Tue
    (datetime(2026, 11, 28, 9, tzinfo=UTC), 1, WINDOW, datetime(2026, 12, 1, 9, tzinfo=UTC)),   # Sat -> Mon + 1
    (datetime(2026, 11, 25, 9, tzinfo=UTC), 0, WINDOW, datetime(2026, 11, 25, 9, tzinfo=UTC)),
    # Friday 20:00 UTC is Saturday 04:00 in Shanghai: a weekend day there, so Monday.
    (datetime(2026, 11, 27, 20, tzinfo=UTC), 0, WINDOW, datetime(2026, 11, 29, 20, tzinfo=UTC)),
    # Sunday 16:30 UTC is Monday 00:30 in Shanghai: already a calling day.
    (datetime(2026, 11, 29, 16, 30, tzinfo=UTC), 0, WINDOW, datetime(2026, 11, 29, 16, 30, tzinfo=UTC)),
    # The configured calling days count, not a hard-coded Monday-Friday.
    (datetime(2026, 11, 29, 3, tzinfo=UTC), 0, EVERY_DAY, datetime(2026, 11, 29, 3, tzinfo=UTC)),      # Sunday
    (datetime(2026, 11, 27, 3, tzinfo=UTC), 1, MON_TO_SAT, datetime(2026, 11, 28, 3, tzinfo=UTC)),     # Fri -> Sat
    (datetime(2026, 11, 28, 3, tzinfo=UTC), 1, MON_TO_SAT, datetime(2026, 11, 30, 3, tzinfo=UTC)),     # Sat -> Mon
])
def test_business_days_are_the_calling_days_of_the_calling_time_zone(start, days, window, expected):
    assert add_business_days(start, days, window) == expected


def test_a_call_completed_at_the_weekend_is_due_at_once_when_every_day_is_a_calling_day():
    saturday_night = local(5, 23, 30)
    assert schedule_due_at(saturday_night, 0, EVERY_DAY) == saturday_night.astimezone(UTC)


@pytest.mark.parametrize(("moment", "expected"), [
    (local(0, 10), local(0, 10)),          # inside the window: as is
    (local(0, 7, 30), local(0, 9)),        # before opening: 09:00 the same day
    (local(0, 18), local(1, 9)),           # at closing: next day 09:00
    (local(4, 19), local(7, 9)),           # Friday evening: Monday 09:00
    (local(5, 11), local(7, 9)),           # Saturday: Monday 09:00
])
def test_the_calling_window(moment, expected):
    assert WINDOW.next_open(moment) == expected.astimezone(UTC)


def test_a_call_is_due_business_days_later_inside_the_window():
    # Friday 17:30 local + 2 business days = Tuesday 17:30, inside the window.
    assert schedule_due_at(local(4, 17, 30), 2, WINDOW) == local(8, 17, 30).astimezone(UTC)
    # Completed Thursday 20:00 local (12:00 UTC, a weekday) + 1 = Friday 20:00 -> Monday 09:00.
    assert schedule_due_at(local(3, 20), 1, WINDOW) == local(7, 9).astimezone(UTC)


def test_a_window_needs_hours_and_days():
    with pytest.raises(ValueError):
        CallingWindow(time(18), time(9), SHANGHAI, frozenset({0}))
    with pytest.raises(ValueError):
        CallingWindow(time(9), time(18), SHANGHAI, frozenset())


def test_priority_puts_poor_ratings_then_fix_confirmations_first():
    assert call_priority(CallReason.SERVICE_COMPLETED, 2) == 3
    assert call_priority(CallReason.ISSUE_CLOSED, None) == 2
    assert call_priority(CallReason.SERVICE_COMPLETED, 5) == 1
    assert call_priority(CallReason.SERVICE_COMPLETED, None) == 1


NOW = datetime(2026, 12, 2, 3, tzinfo=UTC)


def test_an_expired_lease_holds_nothing():
    assert current_holder("a1", NOW + timedelta(seconds=1), NOW) == "a1"
    assert current_holder("a1", NOW, NOW) is None
    assert current_holder(None, None, NOW) is None


def test_claiming_a_call_someone_else_holds_names_them_and_the_expiry():
    with pytest.raises(CallHeld) as refused:
        check_claim(status="scheduled", due_at=NOW, holder="a1", lease_expires_at=NOW + timedelta(minutes=5),
                    agent="a2", now=NOW)
    assert refused.value.extra == {"held_by": "a1", "lease_expires_at": "2026-12-02T03:05:00Z"}
    # The holder renews; a free due call is claimed.
    check_claim(status="scheduled", due_at=NOW, holder="a1", lease_expires_at=NOW, agent="a1", now=NOW)
    check_claim(status="scheduled", due_at=NOW, holder=None, lease_expires_at=None, agent="a2", now=NOW)


def test_closed_or_not_yet_due_calls_cannot_be_claimed():
    with pytest.raises(Conflict, match="completed"):
        check_claim(status="completed", due_at=NOW, holder=None, lease_expires_at=None, agent="a", now=NOW)
    with pytest.raises(CallNotDue, match="not due") as refused:
        check_claim(status="scheduled", due_at=NOW + timedelta(hours=1), holder=None, lease_expires_at=None,
                    agent="a", now=NOW)
    # Not due and held by another are two problem types, so a client can tell them apart.
    assert refused.value.slug == "call-not-due" != CallHeld.slug == "call-held"


def test_only_the_holder_acts_on_a_call():
    check_holds(holder="a1", agent="a1")
    with pytest.raises(Forbidden, match="another agent"):
        check_holds(holder="a1", agent="a2")
    with pytest.raises(Forbidden, match="claim it first"):
        check_holds(holder=None, agent="a2")


def decide(result: AttemptResult, unanswered: int = 1, first: datetime = NOW, now: datetime = NOW,
           call_back_at: datetime | None = None):
    return decide_after_attempt(result=result, unanswered=unanswered, first_attempt_at=first, now=now,
                                call_back_at=call_back_at, rules=RULES, window=WINDOW)


def test_reached_keeps_the_call_and_wrong_number_closes_it():
    assert decide(AttemptResult.REACHED).action is AfterAttempt.HOLD
    assert decide(AttemptResult.WRONG_NUMBER).action is AfterAttempt.UNREACHABLE


def test_no_answer_retries_after_the_delay_inside_the_window():
    decision = decide(AttemptResult.NO_ANSWER)  # Wednesday 11:00 local
    assert decision.action is AfterAttempt.RETRY and decision.next_due_at == NOW + timedelta(hours=4)
    evening = local(2, 16)  # Wednesday 16:00 + 4 h = 20:00 -> Thursday 09:00
    late = decide(AttemptResult.NO_ANSWER, first=evening, now=evening)
    assert late.next_due_at == local(3, 9).astimezone(UTC)


def test_three_unanswered_attempts_or_the_end_of_the_period_make_it_unreachable():
    assert decide(AttemptResult.NO_ANSWER, unanswered=3).action is AfterAttempt.UNREACHABLE
    # Second attempt on Friday 16:00 after a first on Wednesday 16:00: the next opening is past 48 h.
    friday = local(4, 16)
    over = decide(AttemptResult.NO_ANSWER, unanswered=2, first=local(2, 16), now=friday)
    assert over.action is AfterAttempt.UNREACHABLE and "retry period" in over.reason


def test_call_back_needs_a_future_time_and_requeues_at_it():
    at = NOW + timedelta(hours=30)
    decision = decide(AttemptResult.CALL_BACK, call_back_at=at)
    assert decision.action is AfterAttempt.RETRY and decision.next_due_at == at
    for bad in (None, NOW - timedelta(minutes=1)):
        with pytest.raises(InvalidInput):
            decide(AttemptResult.CALL_BACK, call_back_at=bad)


def test_the_retry_period():
    assert retry_period_over(first_attempt_at=NOW - timedelta(hours=48), now=NOW, rules=RULES)
    assert not retry_period_over(first_attempt_at=NOW - timedelta(hours=47), now=NOW, rules=RULES)
    assert not retry_period_over(first_attempt_at=None, now=NOW, rules=RULES)


def test_the_outcome_gate_lists_every_missing_condition():
    with pytest.raises(GateRefused) as refused:
        check_outcome_gate(reached=False, survey_answered=False, outcome="reached")
    assert refused.value.extra["missing_conditions"] == [
        "an attempt that reached the customer",
        "the customer's survey answers for this call (or the outcome 'declined')",
    ]
    with pytest.raises(GateRefused) as declined:
        check_outcome_gate(reached=False, survey_answered=False, outcome="declined")
    assert declined.value.extra["missing_conditions"] == ["an attempt that reached the customer"]
    check_outcome_gate(reached=True, survey_answered=True, outcome="reached")
    check_outcome_gate(reached=True, survey_answered=False, outcome="declined")
