"""The conformance view tells the truth (decision 0076): per engineer (S26), per item (S25, S32),
per call (S34), per day (S10, S20), per period (S16), per milestone and check-sheet item (S13, S17,
S19); and the closing rule of the case (decision 0075). Each rule: the gap first, then the success."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from services.dispatch.record.domain import TimelineEvent, closure_missing, conformance

T0 = datetime(2026, 11, 27, 1, tzinfo=UTC)  # 09:00 in Asia/Shanghai
DAY0 = date(2026, 11, 27)


def ev(event_type: str, minutes: float = 0, actor: str = "eng-1", **data) -> TimelineEvent:
    return TimelineEvent(uuid4(), event_type, actor, T0 + timedelta(minutes=minutes), data)


def at(days: int, hours: float = 0) -> float:
    """Minutes after T0 for a day on site and an hour of it."""
    return days * 24 * 60 + hours * 60


def by_step(timeline, today: date | None = None):
    return {s.step: s for s in conformance(timeline, today=today)}


def dispatched(team: list[str], items: list[dict] | None = None, **plan) -> TimelineEvent:
    return ev("ServiceDispatched", -60, "disp-1", team=[{"engineer_id": e} for e in team],
              plan={"plan_id": str(uuid4()), "version": 1, **plan},
              check_sheets=[{"sheet_id": "cs-1", "items": items or []}])


def arrived(eng: str, day: int = 0) -> TimelineEvent:
    return ev("EngineerArrived", at(day), eng, engineer_id=eng, arrived_at=(T0 + timedelta(days=day)).isoformat(),
              compliance_findings=[])


def departed(eng: str, day: int, last: bool = True) -> TimelineEvent:
    return ev("EngineerDeparted", at(day, 9), eng, engineer_id=eng,
              departed_at=(T0 + timedelta(days=day, hours=9)).isoformat(), visit_closed=last)


def day_of_work(eng: str, day: int, *, sign_in: bool = True, sign_out: bool = True, log: bool = True):
    d = (DAY0 + timedelta(days=day)).isoformat()
    return [*([ev("EngineerCheckedIn", at(day), eng, engineer_id=eng, day=d)] if sign_in else []),
            *([ev("DailyLogSubmitted", at(day, 8), eng, engineer_id=eng, day=d)] if log else []),
            *([ev("EngineerCheckedOut", at(day, 8.5), eng, engineer_id=eng, day=d)] if sign_out else [])]


# ---------------------------------------------------------------- S26 per engineer

def test_s26_a_one_engineer_case_with_its_self_check_is_done_two_need_cross_checks():
    one = [dispatched(["eng-1"]), ev("SelfCheckCompleted", 10, engineer_id="eng-1", items=4)]
    assert by_step(one)["S26"].status == "done"  # was in progress for ever (done only by a cross-check)
    two = [dispatched(["eng-1", "eng-2"]), ev("SelfCheckCompleted", 10, engineer_id="eng-1", items=4),
           ev("SelfCheckCompleted", 11, "eng-2", engineer_id="eng-2", items=4),
           ev("CrossCheckCompleted", 12, checked_engineer_id="eng-2", checker_id="eng-1", items=4)]
    assert by_step(two)["S26"].status == "in_progress"  # eng-1's items not cross-checked yet
    two.append(ev("CrossCheckCompleted", 13, "eng-2", checked_engineer_id="eng-1", checker_id="eng-2", items=4))
    s26 = by_step(two)["S26"]
    assert s26.status == "done" and s26.who == ["eng-1", "eng-2"] and len(s26.evidence) == 4


def test_s26_missing_checks_are_findings_once_the_service_is_completed():
    timeline = [dispatched(["eng-1", "eng-2"]), ev("SelfCheckCompleted", 10, engineer_id="eng-1", items=4),
                ev("ServiceCompleted", 20)]
    details = [f.detail for f in by_step(timeline)["S26"].findings]
    assert "S26: no self-check by eng-2" in details
    assert "S26: eng-1's items not cross-checked by another engineer of the team" in details


# ---------------------------------------------------------------- S32 and S25 per item

def test_s32_is_done_only_when_every_item_is_answered():
    a, b = str(uuid4()), str(uuid4())
    timeline = [ev("CustomerInformationCaptured", 0, info_id=a), ev("CustomerInformationCaptured", 1, info_id=b),
                ev("CustomerInformationRouted", 2, "service:feedback", info_id=a),
                ev("CustomerInformationAnswered", 3, "sales", info_id=a)]
    assert by_step(timeline)["S32"].status == "in_progress"  # was done at the first answer
    timeline.append(ev("CustomerInformationAnswered", 4, "sales", info_id=b))
    s32 = by_step(timeline)["S32"]
    assert s32.status == "done" and s32.when == timeline[-1].occurred_at


def test_s25_a_reopened_issue_is_in_progress_again_until_closed_again():
    issue = str(uuid4())
    timeline = [ev("IssueLogged", 0, issue_id=issue), ev("IssueClosed", 10, "qe-1", issue_id=issue)]
    assert by_step(timeline)["S25"].status == "done"
    timeline.append(ev("IssueReopened", 20, "qe-1", issue_id=issue, reason="leak again"))
    s25 = by_step(timeline)["S25"]
    assert s25.status == "in_progress" and timeline[-1].event_id in s25.evidence  # was still done
    timeline.append(ev("IssueClosed", 30, "qe-1", issue_id=issue))
    assert by_step(timeline)["S25"].status == "done"


# ---------------------------------------------------------------- S34 per call

def test_s34_a_call_closed_unreachable_is_a_finding_not_the_step_done():
    call = str(uuid4())
    timeline = [ev("FollowUpCallScheduled", 0, "service:feedback", call_id=call, reason="service_completed"),
                ev("FollowUpCallCompleted", 10, "agent-1", call_id=call, outcome="unreachable", attempts=3)]
    s34 = by_step(timeline)["S34"]
    assert s34.status == "in_progress"  # was done
    assert [f.detail for f in s34.findings] == [f"S34: follow-up call {call} closed unreachable after 3 attempt(s)"]
    assert s34.findings[0].event_id == timeline[-1].event_id


def test_s34_is_done_when_the_customer_was_reached_also_after_an_unreachable_call():
    first, second = str(uuid4()), str(uuid4())
    reached = [ev("FollowUpCallScheduled", 0, "service:feedback", call_id=first, reason="service_completed"),
               ev("FollowUpCallCompleted", 10, "agent-1", call_id=first, outcome="reached", attempts=1)]
    assert by_step(reached)["S34"].status == "done" and by_step(reached)["S34"].findings == []
    retried = [ev("FollowUpCallScheduled", 0, "service:feedback", call_id=first, reason="service_completed"),
               ev("FollowUpCallCompleted", 10, "agent-1", call_id=first, outcome="unreachable", attempts=3),
               ev("FollowUpCallScheduled", 20, "service:feedback", call_id=second, reason="service_completed"),
               ev("FollowUpCallCompleted", 30, "agent-2", call_id=second, outcome="reached", attempts=1)]
    s34 = by_step(retried)["S34"]
    assert s34.status == "done" and len(s34.findings) == 1  # the unreachable call stays on the record


# ---------------------------------------------------------------- S33 per engineer

def test_s33_is_done_when_every_engineer_has_left_not_at_the_first_departure():
    timeline = [dispatched(["eng-1", "eng-2"]), departed("eng-1", 0, last=False)]
    assert by_step(timeline)["S33"].status == "in_progress"  # was done at the first departure
    timeline.append(departed("eng-2", 0, last=True))
    assert by_step(timeline)["S33"].status == "done"
    left = [dispatched(["eng-1", "eng-2"]), ev("LeaveDecided", 1, "eng-2", engineer_id="eng-2", consent=True),
            departed("eng-1", 0, last=False)]
    assert by_step(left)["S33"].status == "done"  # eng-2 left mid-way with the site manager's consent


# ---------------------------------------------------------------- S10 / S20 per day

def test_s10_and_s20_judge_every_day_on_site_between_arrival_and_departure():
    timeline = [dispatched(["eng-1"]), arrived("eng-1", 0), *day_of_work("eng-1", 0),
                *day_of_work("eng-1", 1, sign_in=False, log=False), departed("eng-1", 3)]
    timeline += day_of_work("eng-1", 3)  # day 2 has nothing at all
    steps = by_step(timeline)
    s10, s20 = steps["S10"], steps["S20"]
    assert s10.status == "in_progress" and s20.status == "in_progress"  # were done on the first sign-out / log
    assert [f.detail for f in s10.findings] == ["S10: eng-1 did not sign in on 2026-11-28",
                                                "S10: eng-1 did not sign in on 2026-11-29",
                                                "S10: eng-1 did not sign out on 2026-11-29"]
    assert s10.findings[0].day == date(2026, 11, 28) and s10.findings[0].event_id is None
    assert [f.detail for f in s20.findings] == ["S20: eng-1 sent no daily work log for 2026-11-28",
                                                "S20: eng-1 sent no daily work log for 2026-11-29"]


def test_s10_and_s20_are_done_when_every_day_has_its_records():
    timeline = [dispatched(["eng-1"]), arrived("eng-1", 0), departed("eng-1", 2)]
    for day in range(3):
        timeline += day_of_work("eng-1", day)
    steps = by_step(timeline)
    assert steps["S10"].status == "done" and steps["S10"].findings == []
    assert steps["S20"].status == "done" and steps["S20"].findings == []


def test_days_on_site_are_the_sites_days_and_today_is_not_judged_while_on_site():
    # 23:30 UTC is 07:30 the next morning in Asia/Shanghai: the arrival's day is the site's day
    early = TimelineEvent(uuid4(), "EngineerArrived", "eng-1", T0 - timedelta(hours=1, minutes=30),
                          {"engineer_id": "eng-1", "arrived_at": (T0 - timedelta(hours=1, minutes=30)).isoformat()})
    timeline = [dispatched(["eng-1"]), early, *day_of_work("eng-1", 0)]
    steps = by_step(timeline, today=DAY0 + timedelta(days=1))
    assert steps["S10"].status == "done" and steps["S20"].status == "done"
    steps = by_step(timeline, today=DAY0 + timedelta(days=2))  # yesterday (day 1) is over and empty
    assert [f.day for f in steps["S10"].findings] == [DAY0 + timedelta(days=1)] * 2


def test_flagged_days_are_not_reported_twice():
    missed = ev("SignInMissed", at(2), "service:onsite", engineer_id="eng-1", day="2026-11-28")
    timeline = [dispatched(["eng-1"]), arrived("eng-1", 0), *day_of_work("eng-1", 0),
                *day_of_work("eng-1", 1, sign_in=False), missed, departed("eng-1", 1)]
    s10 = by_step(timeline)["S10"]
    assert s10.status == "in_progress" and [f.event_id for f in s10.findings] == [missed.event_id]


# ---------------------------------------------------------------- S16 per period

def test_s16_needs_a_report_to_the_customer_in_every_period():
    timeline = [dispatched(["eng-1"], report_period_days=3), arrived("eng-1", 0), departed("eng-1", 9),
                ev("CustomerReportSent", at(2), report_id=str(uuid4()))]
    s16 = by_step(timeline)["S16"]
    assert s16.status == "in_progress"  # was done on its single report
    assert [f.day for f in s16.findings] == [DAY0 + timedelta(days=5), DAY0 + timedelta(days=8)]
    timeline += [ev("CustomerReportSent", at(5), report_id=str(uuid4())),
                 ev("CustomerReportSent", at(8), report_id=str(uuid4()))]
    s16 = by_step(timeline)["S16"]
    assert s16.status == "done" and s16.findings == []


# ---------------------------------------------------------------- S13 / S17 / S19 per item and milestone

ITEMS = [{"item_id": "sf6", "kind": "value"}, {"item_id": "ac", "kind": "value", "requires_witness": True},
         {"item_id": "plate", "kind": "photo"}]


def work(milestone_id: str, *, evidence: bool = True, witness: bool = True, photo: bool = True,
         recorded: tuple[str, ...] = ("sf6", "ac", "plate"), tasks_done: int = 1):
    return [
        *[ev("ProcessDataRecorded", 10 + i, item_id=item, passed=True) for i, item in enumerate(recorded)],
        *([ev("WitnessRecorded", 20, subject_kind="process_data", subject_id="entry-ac")] if witness else []),
        *([ev("EvidenceAttached", 21, attached_to="process_data:entry-plate")] if photo else []),
        ev("WorkPlanUpdated", 25, tasks=1, tasks_done=tasks_done),
        ev("MilestoneReached", 30, milestone_id=milestone_id, title="bays energised"),
        *([ev("EvidenceAttached", 31, attached_to=f"milestone:{milestone_id}")] if evidence else []),
    ]


def test_s13_s17_s19_gaps_per_item_and_milestone():
    m = str(uuid4())
    timeline = [dispatched(["eng-1"], ITEMS), *work(m, evidence=False, witness=False, photo=False,
                                                    recorded=("sf6", "ac"), tasks_done=0),
                ev("ServiceCompleted", 40)]
    steps = by_step(timeline)
    assert steps["S13"].status == "in_progress"  # was done on the milestone alone
    assert [f.detail for f in steps["S13"].findings] == ["S13: check-sheet item plate was never recorded",
                                                         "S13: 1 task(s) of the site plan not done"]
    assert steps["S17"].status == "missing"  # a witness-required item and not a single witness
    assert steps["S17"].findings[0].detail == "S17: 1 of 1 check-sheet item(s) needing a witness have none"
    assert steps["S19"].status == "missing"
    assert [f.detail for f in steps["S19"].findings] == [
        "S19: milestone 'bays energised' has no photo or document",
        "S19: 1 of 1 photo item(s) of the check sheets have no photo"]


def test_s13_s17_s19_done_when_every_item_and_milestone_has_its_record():
    m = str(uuid4())
    steps = by_step([dispatched(["eng-1"], ITEMS), *work(m), ev("ServiceCompleted", 40)])
    for step in ("S13", "S17", "S19"):
        assert steps[step].status == "done" and steps[step].findings == [], steps[step]


def test_a_milestone_that_needed_a_witness_and_a_failed_value_are_findings():
    timeline = [dispatched(["eng-1"]), ev("MilestoneReached", 1, milestone_id="m1", title="HV test",
                                          requires_witness=True, witnessed_by=None),
                ev("ProcessDataRecorded", 2, item_id="sf6", passed=False)]
    steps = by_step(timeline)
    assert steps["S17"].findings[0].detail == "S17: milestone 'HV test' needed a witness and has none"
    assert steps["S13"].findings[0].detail == "S13: check-sheet item sf6: the latest value is outside its limits"
    timeline.append(ev("ProcessDataRecorded", 3, item_id="sf6", passed=True))  # re-measured within limits
    assert by_step(timeline)["S13"].findings == []
    assert by_step([dispatched(["eng-1"])])["S17"].status == "not_applicable"


# ---------------------------------------------------------------- the closed case (decision 0075)

def closing_timeline() -> list[TimelineEvent]:
    call = str(uuid4())
    return [ev("ServiceCompleted", 10), departed("eng-1", 0),
            ev("FollowUpCallScheduled", 20, "service:feedback", call_id=call, reason="service_completed"),
            ev("FollowUpCallCompleted", 30, "agent-1", call_id=call, outcome="reached", attempts=1)]


def test_the_case_is_not_closed_while_a_last_duty_is_open():
    issue, info, repair = str(uuid4()), str(uuid4()), str(uuid4())
    call = str(uuid4())
    timeline = [ev("ServiceCompleted", 10), departed("eng-1", 0, last=False),
                ev("FollowUpCallScheduled", 20, "service:feedback", call_id=call, reason="service_completed"),
                ev("IssueLogged", 1, issue_id=issue), ev("CustomerInformationCaptured", 2, info_id=info),
                ev("RepairOrderOpened", 3, "qe-1", repair_order_id=repair), ev("ComplaintRaised", 4, complaint_id="c1")]
    assert closure_missing(timeline) == [
        "S33: not every engineer has left the site", f"S34: follow-up call {call} has not ended",
        "S34: 1 complaint(s) not yet logged as quality issues", f"S25: quality issue {issue} is open",
        f"S32: customer information {info} is open", f"S28: repair order {repair} is not shipped back to the customer"]
    assert closure_missing([]) == ["S30: the service is not completed", "S33: not every engineer has left the site",
                                   "S34: no follow-up call is scheduled"]


def test_the_case_is_closed_when_the_last_duties_are_done_and_waits_for_a_fix_confirmation_call():
    timeline = closing_timeline()
    assert closure_missing(timeline) == []
    issue = str(uuid4())
    timeline += [ev("IssueLogged", 1, issue_id=issue), ev("IssueClosed", 40, "qe-1", issue_id=issue)]
    assert closure_missing(timeline) == [f"S34: the fix-confirmation call for issue {issue} is not scheduled yet"]
    fix = str(uuid4())
    timeline.append(ev("FollowUpCallScheduled", 41, "service:feedback", call_id=fix, reason="issue_closed"))
    assert closure_missing(timeline) == [f"S34: follow-up call {fix} has not ended"]
    # an unreachable customer ends the call: the case closes, S34 keeps the finding
    timeline.append(ev("FollowUpCallCompleted", 50, "agent-1", call_id=fix, outcome="unreachable", attempts=3))
    assert closure_missing(timeline) == []
    timeline.append(ev("IssueReopened", 60, "qe-1", issue_id=issue, reason="leak again"))
    assert closure_missing(timeline) == [f"S25: quality issue {issue} is open"]


# ---------------------------------------------------------------- a whole case: every step done or n/a

def whole_case(team: list[str]) -> list[TimelineEvent]:
    """The events a case driven through the four services leaves on the timeline (one site day)."""
    issue, info, call, m = str(uuid4()), str(uuid4()), str(uuid4()), str(uuid4())
    t = [ev("ServiceRequestReceived", -600, "crm"), ev("ServiceRequestAcknowledged", -590, "disp-1"),
         ev("ServiceConditionsConfirmed", -580, "disp-1"), ev("EngineersAssigned", -570, "disp-1",
                                                             team=[{"engineer_id": e} for e in team]),
         ev("ServicePlanApproved", -560, "head-1"), ev("SpecificationPackAttached", -550, "disp-1"),
         ev("PreparationCompleted", -540, "disp-1"), dispatched(team, ITEMS)]
    for eng in team:
        t += [arrived(eng), *day_of_work(eng, 0)]
    t += [ev("TechnicalBriefingHeld", 5), ev("PermitRecorded", 6), ev("SafetyCheckCompleted", 7),
          ev("TaskStarted", 8), *work(m), ev("CustomerReportSent", 35, report_id=str(uuid4())),
          ev("IssueLogged", 36, issue_id=issue), ev("IssueResolvedOnSite", 37, issue_id=issue),
          ev("CustomerInformationCaptured", 38, info_id=info)]
    for eng in team:
        t.append(ev("SelfCheckCompleted", 40, eng, engineer_id=eng, items=3))
    if len(team) > 1:
        t += [ev("CrossCheckCompleted", 41, team[i - 1], checked_engineer_id=eng, checker_id=team[i - 1], items=3)
              for i, eng in enumerate(team)]
    t += [ev("CleanupConfirmed", 42), ev("HandoverCompleted", 43), ev("ServiceCompleted", 44)]
    t += [departed(eng, 0, last=i == len(team) - 1) for i, eng in enumerate(team)]
    t += [ev("FollowUpCallScheduled", at(0, 10), "service:feedback", call_id=call, reason="service_completed"),
          ev("FollowUpCallCompleted", at(0, 11), "agent-1", call_id=call, outcome="reached", attempts=1),
          ev("CustomerInformationAnswered", at(0, 12), "sales", info_id=info)]
    return t


def test_a_whole_case_with_one_engineer_and_with_two_is_done_or_not_applicable_and_closes():
    for team in (["eng-1"], ["eng-1", "eng-2"]):
        timeline = whole_case(team)
        steps = conformance(timeline, today=DAY0 + timedelta(days=3))
        open_steps = {s.step: s.status for s in steps if s.status not in ("done", "not_applicable")}
        assert not open_steps, (team, open_steps)
        assert all(s.findings == [] for s in steps), [s.findings for s in steps if s.findings]
        assert {s.step for s in steps if s.status == "not_applicable"} == {
            "S7", "S15", "S18", "S21", "S22", "S23", "S24", "S29", "S31"}
        assert closure_missing(timeline) == []
