"""Every KPI definition of docs/kpis.md on hand-made timelines (services/dispatch/insight/domain.py):
numerator, denominator and what is excluded; then a case's facts and a group's values from summed counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from services.dispatch.insight import domain
from services.dispatch.insight.domain import Ratio
from services.dispatch.record.domain import TimelineEvent, conformance

T0 = datetime(2026, 11, 2, 1, tzinfo=UTC)  # 09:00 in Asia/Shanghai
DAY0 = date(2026, 11, 2)
VISIT = str(uuid4())


def ev(event_type: str, minutes: float = 0, actor: str = "eng-1", **data) -> TimelineEvent:
    return TimelineEvent(uuid4(), event_type, actor, T0 + timedelta(minutes=minutes), data)


def iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def confirmed(minutes: float, arrival_minutes: float) -> TimelineEvent:
    return ev("ServiceConditionsConfirmed", minutes, "disp-1", required_arrival=iso(arrival_minutes))


def rescheduled(minutes: float, arrival_minutes: float) -> TimelineEvent:
    return ev("ArrivalRescheduled", minutes, "disp-1", new_arrival=iso(arrival_minutes))


def arrived(eng: str, minutes: float, *, findings: list[str] | None = None, visit: str = VISIT) -> TimelineEvent:
    return ev("EngineerArrived", minutes, eng, engineer_id=eng, visit_id=visit, arrived_at=iso(minutes),
              compliance_findings=findings or [])


def dispatched(*team: str) -> TimelineEvent:
    return ev("ServiceDispatched", -3000, "disp-1", team=[{"engineer_id": e} for e in team], check_sheets=[])


def completed(day: int = 0) -> TimelineEvent:
    return ev("ServiceCompleted", day * 1440 + 480, completed_at=iso(day * 1440 + 480), engineer_ids=["eng-1"])


# ---------------------------------------------------------------- on-time arrival (S8 vs S2/S7)

def test_on_time_arrival_is_judged_against_the_newest_agreement_before_the_arrival():
    timeline = [confirmed(-5000, 0), arrived("eng-1", -10), arrived("eng-2", 30)]
    assert domain.on_time_arrival(timeline) == {"eng-1": Ratio(1, 1), "eng-2": Ratio(0, 1)}
    # S7 moved the arrival later: eng-2's arrival is now on time
    moved = [confirmed(-5000, 0), rescheduled(-100, 60), arrived("eng-1", -10), arrived("eng-2", 30)]
    assert domain.on_time_arrival(moved) == {"eng-1": Ratio(1, 1), "eng-2": Ratio(1, 1)}
    # a reschedule recorded after the arrival does not excuse it
    late = [confirmed(-5000, 0), arrived("eng-2", 30), rescheduled(100, 60)]
    assert domain.on_time_arrival(late) == {"eng-2": Ratio(0, 1)}


def test_on_time_arrival_excludes_arrivals_without_an_agreed_time_and_engineers_added_later():
    assert domain.on_time_arrival([arrived("eng-1", 0)]) == {"eng-1": Ratio(0, 0)}
    added = [dispatched("eng-1"), confirmed(-5000, 0),
             ev("StaffAdded", 2000, "disp-1", engineers=[{"engineer_id": "eng-9"}]),
             arrived("eng-1", 0), arrived("eng-9", 3000)]
    assert domain.on_time_arrival(added) == {"eng-1": Ratio(1, 1), "eng-9": Ratio(0, 0)}


def test_a_repeated_arrival_event_of_the_same_visit_counts_once():
    timeline = [confirmed(-5000, 0), arrived("eng-1", 0), arrived("eng-1", 200)]
    assert domain.on_time_arrival(timeline) == {"eng-1": Ratio(1, 1)}
    assert domain.three_call_compliance(timeline) == {"eng-1": Ratio(1, 1)}


# ---------------------------------------------------------------- three-call compliance (S8)

def test_three_call_compliance_counts_arrivals_without_findings():
    timeline = [arrived("eng-1", 0), arrived("eng-2", 5, findings=["S8: no call to the site interface"]),
                arrived("eng-1", 3000, visit=str(uuid4()))]
    assert domain.three_call_compliance(timeline) == {"eng-1": Ratio(2, 2), "eng-2": Ratio(0, 1)}


# ---------------------------------------------------------------- S10 / S20 per engineer-day

def _day(n: int) -> str:
    return (DAY0 + timedelta(days=n)).isoformat()


def test_sign_in_sign_out_and_daily_log_compliance_are_per_engineer_day_on_site():
    timeline = [
        arrived("eng-1", 0),
        ev("EngineerCheckedIn", 1, engineer_id="eng-1", day=_day(0)),
        ev("EngineerCheckedOut", 500, engineer_id="eng-1", day=_day(0)),
        ev("DailyLogSubmitted", 490, engineer_id="eng-1", day=_day(0)),
        ev("EngineerCheckedIn", 1441, engineer_id="eng-1", day=_day(1)),  # day 1: no sign-out, no log
        ev("SignOutMissed", 2900, "service:onsite", engineer_id="eng-1", day=_day(1)),
        ev("DailyLogMissed", 2900, "service:onsite", engineer_id="eng-1", day=_day(1)),
        # day 2: nothing at all (not even flagged): still an engineer-day on site
        ev("EngineerDeparted", 3 * 1440 + 60, engineer_id="eng-1", departed_at=iso(3 * 1440 + 60), visit_closed=True),
    ]
    days = domain.presence_compliance(timeline, today=DAY0 + timedelta(days=10))
    assert days == {"eng-1": domain.PresenceDays(engineer_days=4, signed_in=2, signed_out=1, logged=1)}


def test_a_day_onsite_flagged_counts_even_outside_the_days_the_record_sees():
    # still on site, today is day 0: no day is over yet, but onsite flagged a sign-in missed on day 0
    timeline = [arrived("eng-1", 0), ev("SignInMissed", 10, "service:onsite", engineer_id="eng-1", day=_day(0))]
    assert domain.presence_compliance(timeline, today=DAY0) == {
        "eng-1": domain.PresenceDays(engineer_days=1, signed_in=0, signed_out=0, logged=0)}
    assert domain.presence_compliance([arrived("eng-1", 0)], today=DAY0) == {}


# ---------------------------------------------------------------- first-visit completion, days on site

def test_first_visit_completion_needs_one_visit_no_repair_and_no_reopened_issue():
    assert domain.first_visit_completion([arrived("eng-1", 0)]) == Ratio(0, 0)  # not completed: not counted
    ok = [arrived("eng-1", 0), completed()]
    assert domain.first_visit_completion(ok) == Ratio(1, 1)
    assert domain.first_visit_completion([*ok, arrived("eng-1", 9000, visit=str(uuid4()))]) == Ratio(0, 1)
    assert domain.first_visit_completion([*ok, ev("RepairRequested", 100, repair_request_id=str(uuid4()))]) \
        == Ratio(0, 1)
    assert domain.first_visit_completion([*ok, ev("RepairOrderOpened", 100, repair_order_id=str(uuid4()))]) \
        == Ratio(0, 1)
    assert domain.first_visit_completion([*ok, ev("IssueReopened", 100, issue_id=str(uuid4()))]) == Ratio(0, 1)


def test_days_on_site_of_a_completed_case_are_the_days_anyone_was_on_site():
    timeline = [arrived("eng-1", 0), arrived("eng-2", 1440), completed(day=2)]
    assert domain.site_days(timeline, today=DAY0 + timedelta(days=30)) == Ratio(3, 1)
    assert domain.site_days([arrived("eng-1", 0)], today=DAY0 + timedelta(days=30)) == Ratio(0, 0)


# ---------------------------------------------------------------- S25 issues

def test_issue_closure_time_and_past_sla_share():
    a, b, c = (str(uuid4()) for _ in range(3))
    timeline = [
        ev("IssueLogged", 0, issue_id=a), ev("IssueClosed", 120, issue_id=a),
        ev("IssueLogged", 0, issue_id=b), ev("IssueResolvedOnSite", 60, issue_id=b),
        ev("IssueReopened", 90, issue_id=b),  # reopened: open again, not closed
        ev("IssueLogged", 0, issue_id=c), ev("IssueSlaBreached", 600, issue_id=c, clock="response"),
        ev("IssueClosed", 30, issue_id=str(uuid4())),  # not logged on this timeline: not counted
    ]
    assert domain.issue_closure(timeline) == domain.IssueFacts(logged=3, closed=1, closure_hours=2.0, past_sla=1)
    closed_again = [*timeline, ev("IssueClosed", 240, issue_id=b)]
    assert domain.issue_closure(closed_again) == domain.IssueFacts(logged=3, closed=2, closure_hours=6.0,
                                                                   past_sla=1)


# ---------------------------------------------------------------- S34 follow-up

def test_response_rate_csat_nps_and_receipt_rating():
    c1, c2, c3 = (str(uuid4()) for _ in range(3))
    timeline = [
        ev("FollowUpCallCompleted", 0, call_id=c1, outcome="reached"),
        ev("FollowUpCallCompleted", 0, call_id=c2, outcome="unreachable"),
        ev("FollowUpCallScheduled", 0, call_id=c3, reason="issue_closed"),  # not ended: not counted
        ev("SurveyAnswered", 1, response_id=str(uuid4()), call_id=c1, csat=5, nps=10, channel="call"),
        ev("SurveyAnswered", 2, response_id=str(uuid4()), call_id=None, csat=3, nps=5, channel="link"),
        ev("SurveyAnswered", 3, response_id=str(uuid4()), call_id=None, csat=None, nps=8, channel="link"),
        ev("FeedbackRecorded", 4, feedback_id=str(uuid4()), kind="receipt_rating", score=4),
        ev("FeedbackRecorded", 5, feedback_id=str(uuid4()), kind="training_evaluation", score=2),
    ]
    assert domain.follow_up(timeline) == domain.FeedbackFacts(
        calls_closed=2, calls_answered=1, calls_unreachable=1, csat_responses=2, csat_satisfied=1,
        nps_responses=3, promoters=1, detractors=1, receipt_ratings=1, receipt_rating_sum=4.0)


# ---------------------------------------------------------------- conformance across cases

def test_conformance_rate_judges_closed_cases_with_the_record_rule():
    open_case = [arrived("eng-1", 0)]
    assert domain.conformance_outcome(open_case, conformance(open_case)) == Ratio(0, 0)
    closed = [*open_case, ev("CaseClosed", 10, "service:dispatch")]
    assert domain.conformance_outcome(closed, conformance(closed)) == Ratio(0, 1)  # steps missing
    reopened = [*closed, ev("CaseReopened", 20, "service:dispatch")]
    assert domain.conformance_outcome(reopened, conformance(reopened)) == Ratio(0, 0)
    steps = conformance(closed)
    for s in steps:  # every step done or not applicable: conformant
        s.status = "done" if s.status in ("missing", "in_progress") else s.status
    assert domain.conformance_outcome(closed, steps) == Ratio(1, 1)


# ---------------------------------------------------------------- a case's facts and a group's KPIs

def test_case_facts_sum_the_engineers_counts_and_carry_every_case_count():
    timeline = [dispatched("eng-1", "eng-2"), confirmed(-5000, 0), arrived("eng-1", 0),
                arrived("eng-2", 30, findings=["S8: calls out of order"]), completed(),
                ev("CaseClosed", 2000, "service:dispatch")]
    facts = domain.case_facts(timeline, today=DAY0 + timedelta(days=5), team=["eng-1", "eng-2"])
    assert sorted(facts.engineers) == ["eng-1", "eng-2"]
    assert (facts.arrivals, facts.arrivals_judged, facts.arrivals_on_time, facts.arrivals_three_calls_ok) \
        == (2, 2, 1, 1)
    assert facts.engineers["eng-2"].arrivals_on_time == 0
    assert (facts.completed, facts.first_visit_complete, facts.site_days) == (1, 1, 1)
    assert facts.engineer_days == 2 and facts.days_signed_in == 0
    assert (facts.cases_judged, facts.cases_conformant) == (1, 0) and facts.findings_judged > 0
    assert set(domain.step_cells(facts.steps)) == {f"S{n}" for n in range(1, 35)}


def test_kpi_values_divide_summed_counts_once_and_show_the_denominator():
    totals = {"arrivals_on_time": 3, "arrivals_judged": 4, "promoters": 2, "detractors": 1, "nps_responses": 4,
              "closure_hours": 10.0, "issues_closed": 4, "cases_judged": 0}
    values = {v["kpi"]: v for v in domain.kpi_values(totals)}
    assert values["on_time_arrival"] == {"kpi": "on_time_arrival", "steps": "S8/S2/S7", "unit": "share",
                                         "numerator": 3.0, "denominator": 4, "value": 0.75}
    assert values["nps"]["value"] == 25.0 and values["nps"]["numerator"] == 1.0
    assert values["issue_closure_hours"]["value"] == 2.5
    assert values["conformance_rate"] == {"kpi": "conformance_rate", "steps": "S1-S34", "unit": "share",
                                          "numerator": 0.0, "denominator": 0, "value": None}
    assert {k.name for k in domain.KPIS} == set(values)


def test_a_time_without_a_zone_in_event_data_is_read_as_utc():
    naive = ev("ServiceConditionsConfirmed", -5000, "disp-1", required_arrival=T0.replace(tzinfo=None).isoformat())
    assert domain.on_time_arrival([naive, arrived("eng-1", -1), arrived("eng-2", 1)]) == {
        "eng-1": Ratio(1, 1), "eng-2": Ratio(0, 1)}
