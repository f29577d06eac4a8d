"""Pure rules of closing: S26 checks, the S30 completion gate, the S33 departure gate."""

from __future__ import annotations

import pytest

from services.onsite.closing.domain import (
    EntryView,
    IssueView,
    MilestoneView,
    WorkState,
    check_completion_gate,
    check_cross_check,
    check_departure_gate,
    check_self_check,
    failed_without_disposition,
    s26_missing,
    work_missing,
)
from shared.api.problems import Forbidden, GateRefused

READY = dict(arrived=True, already_completed=False, work=[], s26=[], cleanup_confirmed=True, handover_done=True,
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
            arrived=False, already_completed=True, work=["S13: task 'T' is started, not done"],
            s26=["S26: no self-check by a"], cleanup_confirmed=False,
            handover_done=False, drawing_revisions=2, revisions_not_dispatched=["D-7"], no_drawing_deviations=False,
            issues=[IssueView("i1", "logged", False), IssueView("i2", "logged", True),
                    IssueView("i3", "resolved_on_site", False), IssueView("i4", "reopened", False)])
    assert exc.value.extra["gate"] == "completion"
    assert exc.value.extra["missing_conditions"] == [
        "S30: the service receipt is already signed",
        "S8: no engineer has arrived on site",
        "S13: task 'T' is started, not done",
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


def test_s30_needs_the_work_finished_every_task_entry_witness_disposition_and_milestone_evidence():
    unfinished = WorkState(
        tasks=(("Breaker tests", "started"), ("Mounting", "planned"), ("Cabling", "done")),
        entries=(EntryView("Breaker tests/r1", passed=True, signed_off=False, requires_witness=True),
                 EntryView("Breaker tests/r2", passed=False, signed_off=False),
                 EntryView("Breaker tests/r3", passed=False, signed_off=True, disposition="concession"),
                 EntryView("Cabling/y1", passed=True, signed_off=True)),
        milestones=(MilestoneView("Bay 1 energised", reached=False, requires_witness=True),
                    MilestoneView("Bay 2 energised", reached=True, has_evidence=True)),
    )
    assert work_missing(unfinished) == [
        "S13: task 'Breaker tests' is started, not done",
        "S13: task 'Mounting' is planned, not done",
        "S17: item Breaker tests/r1 has no witness recorded",
        "S13: item Breaker tests/r1 not signed off",
        "S13: item Breaker tests/r2 not signed off",
        "S25: item Breaker tests/r2 failed (outside its limits) and has no disposition",
        "S17: milestone 'Bay 1 energised' has no witness recorded",
        "S13: milestone 'Bay 1 energised' not signed off",
        "S19: milestone 'Bay 1 energised' has no photo or document",
    ]
    with pytest.raises(GateRefused) as exc:
        check_completion_gate(**{**READY, "work": work_missing(unfinished)})
    assert "S13: task 'Mounting' is planned, not done" in exc.value.extra["missing_conditions"]

    finished = WorkState(
        tasks=(("Breaker tests", "done"),),
        entries=(EntryView("Breaker tests/r1", passed=True, signed_off=True, requires_witness=True, witnessed=True),
                 EntryView("Breaker tests/r2", passed=True, signed_off=True, disposition="remeasured"),
                 EntryView("Breaker tests/r3", passed=False, signed_off=True, disposition="issue")),
        milestones=(MilestoneView("Bay 1 energised", reached=True, requires_witness=True, witnessed=True,
                                  has_evidence=True),),
    )
    assert work_missing(finished) == []
    check_completion_gate(**{**READY, "work": work_missing(finished)})


def test_self_check_needs_values_recorded_and_failed_ones_disposed_of():
    entries = [EntryView("T/a", passed=False, signed_off=False),
               EntryView("T/b", passed=False, signed_off=False, disposition="issue"),
               EntryView("T/c", passed=True, signed_off=False, disposition="remeasured")]
    assert failed_without_disposition(entries) == ["T/a"]
    with pytest.raises(GateRefused) as exc:
        check_self_check(unrecorded_items=["T/x"], failed_items=failed_without_disposition(entries))
    assert exc.value.extra["missing_conditions"] == ["S26: check-sheet item T/x not recorded",
                                                     "S26: check-sheet item T/a failed and has no disposition"]
    check_self_check(unrecorded_items=[], failed_items=failed_without_disposition(entries[1:]))
