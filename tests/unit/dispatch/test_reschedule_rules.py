"""S7 rules: a reschedule moves the window and re-checks the team under the S3 rules, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.dispatch.cases.models import CaseStatus
from services.dispatch.delays.domain import check_reschedule, moved_window, reschedule_problems
from services.dispatch.staffing.domain import Busy, Candidate, Requirement
from shared.api.problems import GateRefused

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
START, END = NOW + timedelta(days=2), NOW + timedelta(days=6)
REQ = Requirement(min_grade=3, head_count=2, certificates=("hv_live_work",))


def engineer(eid: str, *, pm: bool = False, cert_until: date = date(2027, 6, 1),
             busy: tuple[Busy, ...] = ()) -> Candidate:
    return Candidate(eid, eid.title(), 4, True, {"hv_live_work": cert_until}, busy, pm)


def test_s7_the_window_moves_to_the_new_arrival_keeping_its_length():
    new = START + timedelta(days=3)
    assert moved_window(START, END, new) == (new, END + timedelta(days=3))
    assert moved_window(None, None, new) == (new, None)


def test_s7_a_reschedule_refuses_naming_the_double_booked_engineer_and_the_expiring_certificate():
    start, end = moved_window(START, END, START + timedelta(days=10))
    team = [engineer("ann", pm=True, busy=(Busy(end - timedelta(days=1), end + timedelta(days=1), "case R-9"),)),
            engineer("bob", cert_until=(end - timedelta(days=2)).date()),
            engineer("cai", busy=(Busy(START, END, "case R-1"),))]  # busy in the old window only
    with pytest.raises(GateRefused) as refused:
        check_reschedule(CaseStatus.DISPATCHED, NOW, NOW, team=team, unknown=[], requirement=REQ,
                         start=start, end=end)
    problem = refused.value.extra
    assert problem["gate"] == "arrival reschedule"
    assert problem["missing_conditions"] == [
        "S3: engineer ann is double-booked in the planned window (case R-9)",
        f"S3: engineer bob's hv_live_work certificate expires on {(end - timedelta(days=2)).date()}, "
        f"before the planned end {end.date()}",
    ]


def test_s7_notifications_and_team_rules_are_listed_together_and_a_free_team_passes():
    start, end = moved_window(START, END, START + timedelta(days=10))
    busy = engineer("ann", pm=True, busy=(Busy(start, end, "leave"),))
    problems = reschedule_problems(CaseStatus.DISPATCHED, None, NOW, team=[busy, engineer("bob")], unknown=[],
                                   requirement=REQ, start=start, end=end)
    assert problems == ["S7: the customer's notification is not recorded",
                        "S3: engineer ann is double-booked in the planned window (leave)"]
    check_reschedule(CaseStatus.DISPATCHED, NOW, NOW, team=[engineer("ann", pm=True), engineer("bob")],
                     unknown=[], requirement=REQ, start=start, end=end)
    # an unstaffed case only needs the notifications
    check_reschedule(CaseStatus.ACKNOWLEDGED, NOW, NOW)


def test_s7_when_the_system_informs_both_notifications_are_not_required_yet_but_the_rest_is():
    """Decision 0090: with `inform`, the arrival moves once the system's messages are sent."""
    assert reschedule_problems(CaseStatus.DISPATCHED, None, None, informing=True) == []
    assert reschedule_problems(CaseStatus.DISPATCHED, None, None) == [
        "S7: the customer's notification is not recorded",
        "S7: the regional service centre's notification is not recorded"]
    assert reschedule_problems(CaseStatus.ON_SITE, None, None, informing=True) == [
        "S7: only a staffed case not yet on site can be rescheduled (it is on_site)"]
