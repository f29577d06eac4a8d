"""S10/S20 (decision 0076): the days on site end with the signed receipt (S30). Onsite accepts no sign-in
after the service is completed, so leaving after the site's midnight must not open a day that nobody can
sign in or log; a day of work before the receipt still needs both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from services.dispatch.record.domain import Context, TimelineEvent, conformance, days_on_site

# Saturday 23:30 in Asia/Shanghai (15:30 UTC): the receipt is signed before midnight, the team leaves after.
EVENING = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
SATURDAY, SUNDAY = date(2026, 11, 28), date(2026, 11, 29)


def ev(event_type: str, at: datetime, actor: str = "eng-1", **data: object) -> TimelineEvent:
    return TimelineEvent(uuid4(), event_type, actor, at, dict(data))


def visit(*, completed_at: datetime, departed_at: datetime, signed_out_at: datetime) -> list[TimelineEvent]:
    """One engineer: arrived and signed in Saturday evening, logged Saturday, receipt, sign-out, departure."""
    return [
        ev("ServiceDispatched", EVENING - timedelta(hours=1), "disp-1", team=[{"engineer_id": "eng-1"}],
           check_sheets=[]),
        ev("EngineerArrived", EVENING, engineer_id="eng-1", arrived_at=EVENING.isoformat(), compliance_findings=[]),
        ev("EngineerCheckedIn", EVENING, engineer_id="eng-1", day=SATURDAY.isoformat()),
        ev("DailyLogSubmitted", EVENING + timedelta(minutes=20), engineer_id="eng-1", day=SATURDAY.isoformat()),
        ev("ServiceCompleted", completed_at, completed_at=completed_at.isoformat(), engineer_ids=["eng-1"]),
        # a sign-out after midnight closes the open sign-in of the day before (onsite: work past midnight)
        ev("EngineerCheckedOut", signed_out_at, engineer_id="eng-1", day=SATURDAY.isoformat()),
        ev("EngineerDeparted", departed_at, engineer_id="eng-1", departed_at=departed_at.isoformat(),
           visit_closed=True),
    ]


def statuses(timeline: list[TimelineEvent]) -> dict[str, str]:
    return {s.step: s.status for s in conformance(timeline, today=SUNDAY)}


def test_leaving_after_midnight_once_the_receipt_is_signed_opens_no_new_day_on_site():
    after_midnight = EVENING + timedelta(minutes=40)  # 00:10 Sunday at the site
    timeline = visit(completed_at=EVENING + timedelta(minutes=25), departed_at=after_midnight,
                     signed_out_at=after_midnight)
    assert days_on_site(Context(sorted(timeline, key=lambda e: e.occurred_at))) == {"eng-1": [SATURDAY]}
    status = statuses(timeline)
    assert status["S10"] == "done" and status["S20"] == "done"  # Sunday asked for a sign-in onsite refuses


def test_work_past_midnight_before_the_receipt_is_a_day_on_site_needing_its_sign_in_and_log():
    after_midnight = EVENING + timedelta(minutes=40)
    timeline = visit(completed_at=after_midnight, departed_at=after_midnight + timedelta(minutes=5),
                     signed_out_at=after_midnight + timedelta(minutes=2))
    assert days_on_site(Context(sorted(timeline, key=lambda e: e.occurred_at))) == {"eng-1": [SATURDAY, SUNDAY]}
    steps = {s.step: s for s in conformance(timeline, today=SUNDAY)}
    assert steps["S10"].status == "in_progress" and steps["S20"].status == "in_progress"
    assert any("did not sign in on 2026-11-29" in f.detail for f in steps["S10"].findings)
    assert any("no daily work log for 2026-11-29" in f.detail for f in steps["S20"].findings)
