"""Suggested assignment on generated data: every hard rule holds, for CP-SAT and for greedy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.dispatch.staffing.domain import Requirement
from services.dispatch.suggestions.domain import CaseNeed, cp_sat, greedy, objective, suggest, violations
from services.dispatch.suggestions.generated import T0, case_load, roster


@pytest.mark.parametrize("seed", [1, 2])
def test_cp_sat_and_greedy_respect_every_hard_rule(seed):
    engineers, cases = roster(25, seed), case_load(40, seed, horizon_days=30)
    fallback = greedy(engineers, cases)
    best = cp_sat(engineers, cases, time_limit=2, hint=fallback)
    assert best is not None
    for suggestion in (fallback, best):
        assert violations(engineers, cases, suggestion.teams) == []
        assert set(suggestion.teams) | set(suggestion.unstaffed) == {c.case_id for c in cases}
        assert suggestion.objective == objective(engineers, cases, suggestion.teams)
        by_id = {e.engineer_id: e for e in engineers}
        for team in suggestion.teams.values():
            # the project manager (first) is the most senior member
            assert by_id[team[0]].grade == max(by_id[e].grade for e in team)
    assert best.objective <= fallback.objective
    assert len(best.teams) >= len(fallback.teams)


def test_suggest_says_which_solver_produced_it_and_falls_back_to_greedy():
    engineers, cases = roster(10, 5), case_load(8, 5, horizon_days=10)
    chosen = suggest(engineers, cases, time_limit=2)
    assert chosen.solver == "cp-sat" and chosen.status in ("optimal", "feasible")
    # a time limit too short for CP-SAT to find anything leaves the greedy answer
    tiny = suggest(engineers, cases, time_limit=1e-9)
    assert tiny.solver in ("greedy", "cp-sat") and violations(engineers, cases, tiny.teams) == []


def test_an_impossible_case_is_reported_unstaffed_not_broken():
    engineers = roster(5, 9)
    impossible = CaseNeed("x", "east", "GIS-126kV", T0, T0 + timedelta(days=2), Requirement(5, 30))
    result = suggest(engineers, [impossible], time_limit=2)
    assert result.teams == {} and "x" in result.unstaffed
