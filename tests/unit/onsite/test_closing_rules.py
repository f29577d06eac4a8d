"""Pure rules of closing: S26 checks, the S30 completion gate, the S33 departure gate."""

from __future__ import annotations

import pytest

from services.onsite.closing.domain import (
    IssueView,
    check_completion_gate,
    check_cross_check,
    check_departure_gate,
    check_self_check,
    s26_missing,
)
from shared.api.problems import Forbidden, GateRefused

READY = dict(arrived=True, already_completed=False, s26=[], cleanup_confirmed=True, handover_done=True,
             drawing_revisions=0, revisions_not_dispatched=[], no_drawing_deviations=True, issues=[])


def test_s26_each_engineer_self_checks_and_is_cross_checked_by_another():
    team = ["a", "b"]
    assert s26_missing(team=team, checks=[("a", "a")], unrecorded_items=["T/x"]) == [
        "S26: check-sheet item T/x not recorded",
        "S26: a's items not cross-checked by another engineer of the team",
        "S26: no self-check by b",
        "S26: b's items not cross-checked by another engineer of the team",
    ]
    assert s26_missing(team=team, checks=[("a", "a"), ("b", "b"), ("a", "b"), ("b", "a")], unrecorded_items=[]) == []
    # Alone on site: the self-check is enough.
    assert s26_missing(team=["a"], checks=[("a", "a")], unrecorded_items=[]) == []


def test_cross_check_needs_another_team_engineer_after_the_self_check():
    with pytest.raises(Forbidden):
        check_cross_check(team=["a", "b"], engineer_id="a", checker_id="c", self_checked=True)
    with pytest.raises(GateRefused, match="has not self-checked"):
        check_cross_check(team=["a", "b"], engineer_id="a", checker_id="b", self_checked=False)
    check_cross_check(team=["a", "b"], engineer_id="a", checker_id="b", self_checked=True)
    with pytest.raises(GateRefused, match="item T/x not recorded"):
        check_self_check(unrecorded_items=["T/x"])
    check_self_check(unrecorded_items=[])


def test_completion_gate_lists_every_missing_condition():
    with pytest.raises(GateRefused) as exc:
        check_completion_gate(
            arrived=False, already_completed=True, s26=["S26: no self-check by a"], cleanup_confirmed=False,
            handover_done=False, drawing_revisions=2, revisions_not_dispatched=["D-7"], no_drawing_deviations=False,
            issues=[IssueView("i1", "logged", False), IssueView("i2", "logged", True),
                    IssueView("i3", "resolved_on_site", False), IssueView("i4", "reopened", False)])
    assert exc.value.extra["gate"] == "completion"
    assert exc.value.extra["missing_conditions"] == [
        "S30: the service receipt is already signed",
        "S8: no engineer has arrived on site",
        "S26: no self-check by a",
        "S27: clean-up of the site and equipment not confirmed",
        "S28: hand-over of accessories and spare parts not recorded",
        "S29: drawing D-7 not yet sent to the company and mailed to the customer",
        "S25: quality issue i1 is still open on site and not escalated",
        "S25: quality issue i4 is still open on site and not escalated",
    ]


def test_completion_gate_needs_s29_answered_and_passes_when_all_is_done():
    with pytest.raises(GateRefused, match="'no deviations' not declared"):
        check_completion_gate(**{**READY, "no_drawing_deviations": False})
    check_completion_gate(**READY)
    check_completion_gate(**{**READY, "no_drawing_deviations": False, "drawing_revisions": 1})
    # An escalated issue, or one fixed on site or closed, does not block completion.
    check_completion_gate(**{**READY, "issues": [IssueView("i", "logged", True), IssueView("j", "closed", False)]})


def test_departure_gate():
    with pytest.raises(GateRefused) as exc:
        check_departure_gate(completed=False, already_departed=False, regional_centre_informed=False,
                             department_head_informed=False, site_manager_agreed=False, pending_tasks=["Energise"])
    assert exc.value.extra["missing_conditions"] == [
        "S30: the service is not completed (receipt not signed)",
        "S33: the regional service centre has not been informed",
        "S33: the department head has not been informed",
        "S33: the customer site manager's agreement is not recorded",
        "S33: task 'Energise' is still pending",
    ]
    check_departure_gate(completed=True, already_departed=False, regional_centre_informed=True,
                         department_head_informed=True, site_manager_agreed=True, pending_tasks=[])
