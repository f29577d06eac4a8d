"""Replanning on generated data: a repair after leave, an urgent case fitted, S2 arrival windows; every
hard rule (`violations`) holds in the plan after the repair, and the repair changes as little as it can."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from services.dispatch.replanning.domain import (
    Change,
    affected_cases,
    application_order,
    applied,
    arrival_windows,
    repair,
)
from services.dispatch.staffing.domain import Busy, Requirement
from services.dispatch.suggestions.domain import CaseNeed, EngineerProfile, greedy, violations
from services.dispatch.suggestions.generated import T0, case_load, roster

DAY = timedelta(days=1)


def staffed_plan(engineers: int, cases: int, seed: int) -> tuple[list[EngineerProfile], list[CaseNeed],
                                                                  dict[str, list[str]]]:
    """A generated plan: greedy's teams, each case's head count the size of its team."""
    roster_, load = roster(engineers, seed), case_load(cases, seed, horizon_days=30, lead_rules=True)
    teams = greedy(roster_, load).teams
    needs = [replace(c, requirement=replace(c.requirement, head_count=len(teams[c.case_id])))
             for c in load if c.case_id in teams]
    return roster_, needs, teams


def on_leave(engineers: list[EngineerProfile], engineer_id: str, start, end) -> list[EngineerProfile]:
    return [replace(e, busy=(*e.busy, Busy(start, end, "sick"))) if e.engineer_id == engineer_id else e
            for e in engineers]


def engineer(eid: str, skills: dict[str, int], grade: int = 3, region: str = "east") -> EngineerProfile:
    return EngineerProfile(eid, eid, grade, region, skills)


def case(cid: str, equipment: str, day: int, head_count: int = 1, days: int = 3) -> CaseNeed:
    return CaseNeed(cid, "east", equipment, T0 + day * DAY, T0 + (day + days) * DAY, Requirement(1, head_count))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_repair_after_leave_breaks_no_hard_rule_and_changes_only_the_affected_cases(seed):
    engineers, cases, teams = staffed_plan(60, 150, seed)
    ill = Counter(e for t in teams.values() for e in t).most_common(1)[0][0]
    mine = sorted((c for c in cases if ill in teams[c.case_id]), key=lambda c: c.start)
    leave = (mine[0].start - timedelta(hours=1), mine[0].start + 12 * DAY)
    engineers = on_leave(engineers, ill, *leave)
    targets = affected_cases(ill, leave[0], cases, teams, [leave])
    assert targets and targets[0] == mine[0].case_id
    fix = repair(engineers, cases, teams, targets, shifts={t: [d * DAY for d in range(1, 15)] for t in targets},
                 time_limit=5)
    assert fix.status in ("optimal", "feasible")
    after, moved = applied(teams, cases, fix)
    assert violations(engineers, moved, after) == []  # the ill engineer included: their leave is busy time
    assert set(fix.unrepaired) <= set(targets)
    for t in targets:
        assert t in fix.unrepaired or ill not in after[t] or any(
            ch.case_id == t and ch.kind == "arrival" for ch in fix.changes)
    changed = {ch.case_id for ch in fix.changes}
    assert all(after[c] == teams[c] for c in teams if c not in changed and c not in fix.unrepaired)
    assert fix.changed_assignments == sum(ch.changed_assignments for ch in fix.changes)
    # no repair changes fewer than the missing members of the repaired targets
    assert fix.changed_assignments >= len([t for t in targets if t not in fix.unrepaired])
    # the targets-alone phase loses nothing: the whole neighbourhood at once changes no fewer assignments
    whole = repair(engineers, cases, teams, targets, shifts={t: [d * DAY for d in range(1, 15)] for t in targets},
                   time_limit=5, targets_first=False)
    assert whole.status == "optimal" and len(whole.unrepaired) == len(fix.unrepaired)
    assert whole.changed_assignments == fix.changed_assignments


def test_without_a_free_engineer_the_repair_swaps_one_from_another_case_and_fills_it():
    engineers = [engineer("ill", {"GIS": 3}), engineer("y", {"GIS": 3, "XFMR": 3}), engineer("z", {"XFMR": 2})]
    cases = [case("a", "GIS", 0), case("b", "XFMR", 1)]
    teams = {"a": ["ill"], "b": ["y"]}
    engineers = on_leave(engineers, "ill", T0, T0 + 5 * DAY)
    fix = repair(engineers, cases, teams, ["a"])
    assert fix.status == "optimal" and fix.unrepaired == {}
    assert {ch.case_id: ch.after for ch in fix.changes} == {"a": ("y",), "b": ("z",)}
    assert fix.changed_assignments == 2
    after, moved = applied(teams, cases, fix)
    assert violations(engineers, moved, after) == []
    # the swap source releases y before the affected case takes them
    assert [ch.case_id for ch in application_order(list(reversed(fix.changes)))] == ["b", "a"]
    # no swaps allowed: the case stays unrepaired, nothing else changes
    none = repair(engineers, cases, teams, ["a"], max_swaps=0)
    assert none.changes == [] and "a" in none.unrepaired


def test_when_no_team_is_free_the_arrival_moves_with_its_team_until_the_leave_ends():
    engineers = [engineer("ill", {"GIS": 3}, grade=5), engineer("w", {"GIS": 3}), engineer("busy", {"GIS": 3})]
    cases = [case("a", "GIS", 2, head_count=2), case("elsewhere", "GIS", 0, days=20)]
    teams = {"a": ["ill", "w"], "elsewhere": ["busy"]}
    engineers = on_leave(engineers, "ill", T0, T0 + 4 * DAY)
    fix = repair(engineers, cases, teams, ["a"], shifts={"a": [d * DAY for d in range(1, 8)]})
    assert fix.unrepaired == {}
    (change,) = fix.changes
    assert change.kind == "arrival" and change.after == ("ill", "w")  # the most senior leads
    assert change.start == T0 + 4 * DAY and change.previous_start == T0 + 2 * DAY  # the first day all are free
    assert fix.changed_assignments == 3  # both bookings move, and the customer's arrival
    after, moved = applied(teams, cases, fix)
    assert violations(engineers, moved, after) == []


def test_a_replacement_is_preferred_to_a_swap_and_a_swap_to_a_moved_arrival():
    engineers = [engineer("ill", {"GIS": 3}), engineer("y", {"GIS": 3, "XFMR": 3}), engineer("z", {"XFMR": 2}),
                 engineer("far", {"GIS": 1}, region="northwest")]
    cases = [case("a", "GIS", 0), case("b", "XFMR", 1)]
    teams = {"a": ["ill"], "b": ["y"]}
    engineers = on_leave(engineers, "ill", T0, T0 + 5 * DAY)
    fix = repair(engineers, cases, teams, ["a"], shifts={"a": [d * DAY for d in range(1, 10)]})
    # `far` costs more travel than the swap, but one changed assignment beats two
    assert [(ch.case_id, ch.after) for ch in fix.changes] == [("a", ("far",))]
    assert fix.changed_assignments == 1 and fix.cost_change > 0


@pytest.mark.parametrize("seed", [4, 5])
def test_an_urgent_case_is_fitted_with_the_fewest_moves_breaking_no_hard_rule(seed):
    engineers, cases, teams = staffed_plan(40, 150, seed)
    busiest = max(cases, key=lambda c: sum(1 for o in cases if o.start < c.end and c.start < o.end))
    urgent = CaseNeed("urgent", busiest.region, busiest.equipment_type, busiest.start, busiest.end,
                      Requirement(2, 2))
    fix = repair(engineers, [*cases, urgent], teams, ["urgent"], max_swaps=3, time_limit=5)
    after, moved = applied(teams, [*cases, urgent], fix)
    assert violations(engineers, moved, after) == []
    assert "urgent" in after or "urgent" in fix.unrepaired
    others = [ch for ch in fix.changes if ch.case_id != "urgent"]
    assert len(others) <= 3 and all(ch.kind == "team" for ch in fix.changes)


def test_an_urgent_case_takes_free_engineers_first_then_one_swap():
    engineers = [engineer("free", {"GIS": 3}), engineer("y", {"GIS": 3, "XFMR": 3}), engineer("z", {"XFMR": 2})]
    cases = [case("b", "XFMR", 0), case("u", "GIS", 1, head_count=2)]
    fix = repair(engineers, cases, {"b": ["y"]}, ["u"])
    assert {ch.case_id: set(ch.after) for ch in fix.changes} == {"u": {"free", "y"}, "b": {"z"}}
    after, moved = applied({"b": ["y"]}, cases, fix)
    assert violations(engineers, moved, after) == []


def test_arrival_windows_skip_the_days_no_qualified_team_is_free_earliest_first():
    engineers = [engineer("a", {"GIS": 3}, grade=4), engineer("b", {"GIS": 2}, grade=3),
                 engineer("junior", {"GIS": 5}, grade=1), engineer("other", {"XFMR": 5}, grade=5)]
    engineers[1] = replace(engineers[1], busy=(Busy(T0, T0 + 4 * DAY, "case 7"),))
    need = CaseNeed("s2", "east", "GIS", T0, T0 + 2 * DAY, Requirement(2, 2))
    windows = arrival_windows(engineers, need, first=T0, days=10, limit=3)
    assert [w.start for w in windows] == [T0 + 4 * DAY, T0 + 5 * DAY, T0 + 6 * DAY]
    for w in windows:
        assert w.team == ("a", "b") and w.qualified_free == 2
        at = replace(need, start=w.start, end=w.end)
        assert violations(engineers, [at], {"s2": list(w.team)}) == []
    assert arrival_windows(engineers, replace(need, requirement=Requirement(5, 2)), first=T0, days=10) == []


def test_affected_cases_are_those_overlapping_the_leave_from_now_on():
    cases = [case("past", "GIS", 0), case("hit", "GIS", 5), case("later", "GIS", 20)]
    teams = {c.case_id: ["x"] for c in cases}
    leave = [(T0, T0 + 10 * DAY)]
    assert affected_cases("x", T0 + 4 * DAY, cases, teams, leave) == ["hit"]
    assert affected_cases("x", T0 + 4 * DAY, cases, teams, [], pulled_off=True) == ["hit", "later"]
    assert application_order([Change("a", "team", ("x",), ("y",), T0, T0, T0, 1, 0)])[0].case_id == "a"


def test_a_case_that_cannot_keep_its_team_is_no_swap_source():
    # `gone` left the roster: case b cannot keep its team, so it gives no one away (and the model stays feasible)
    engineers = on_leave([engineer("ill", {"GIS": 3}), engineer("y", {"GIS": 3, "XFMR": 3})], "ill", T0, T0 + 5 * DAY)
    cases = [case("a", "GIS", 0), case("b", "XFMR", 1, head_count=2)]
    fix = repair(engineers, cases, {"a": ["ill"], "b": ["y", "gone"]}, ["a"])
    assert fix.status == "optimal" and fix.changes == [] and "a" in fix.unrepaired
    assert fix.neighbourhood["swap_sources"] == 0


def test_the_replacement_of_an_ill_project_manager_is_qualified_to_lead():
    engineers = [engineer("ill", {"GIS": 3}, grade=5), engineer("w", {"GIS": 3}),
                 engineer("near", {"GIS": 5}), engineer("lead", {"GIS": 3}, grade=4, region="north")]
    engineers = on_leave(engineers, "ill", T0, T0 + 5 * DAY)
    a = replace(case("a", "GIS", 0, head_count=2),
                requirement=Requirement(1, 2, project_manager_min_grade=4))
    fix = repair(engineers, [a], {"a": ["ill", "w"]}, ["a"])
    # `near` costs less travel, but the policy asks a grade 4 project manager
    assert [(ch.case_id, ch.after) for ch in fix.changes] == [("a", ("lead", "w"))]
    assert violations(engineers, [a], {"a": ["lead", "w"]}) == []
    windows = arrival_windows(engineers, a, first=T0 + DAY, days=1)  # ill on leave then
    assert [w.team for w in windows] == [("lead", "near")]  # the dearer w traded for the lead
