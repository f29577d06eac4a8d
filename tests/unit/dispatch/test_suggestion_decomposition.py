"""The bound by decomposition per engineer (decision 0096): each engineer's part is solved exactly, and the
bound never passes the proven optimum, whatever the prices."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from services.dispatch.suggestions import domain
from services.dispatch.suggestions.decomposition import EngineerBound, bound_beside
from services.dispatch.suggestions.domain import BALANCE_WEIGHT, build, rows, solve, violations
from services.dispatch.suggestions.generated import case_load, roster


def test_each_engineers_part_is_the_best_set_of_cases_they_can_work_one_after_another() -> None:
    m = build(roster(30, 2), case_load(60, 2, horizon_days=20))
    r = rows(m)
    bound = EngineerBound(m, r)
    rng = np.random.default_rng(5)
    checked = 0
    for e in range(m.engineers):
        ks = bound.order[bound.first[e]:bound.first[e + 1]]
        if not 3 <= len(ks) <= 11:
            continue
        gain = rng.uniform(-60, -1, len(ks))
        value, taken = bound._schedule(ks, gain)
        best = np.inf
        for size in range(len(ks) + 1):
            for subset in itertools.combinations(range(len(ks)), size):
                c = m.case[ks[list(subset)]]
                if any(m.start[a] < m.end[b] and m.start[b] < m.end[a] for a, b in itertools.combinations(c, 2)):
                    continue
                load = int(m.days[c].sum())
                best = min(best, float(gain[list(subset)].sum()) + BALANCE_WEIGHT * max(0, load - m.share))
        assert value == pytest.approx(best)
        chosen = m.case[taken]
        assert value == pytest.approx(float(gain[np.isin(ks, taken)].sum())
                                      + BALANCE_WEIGHT * max(0, int(m.days[chosen].sum()) - m.share))
        checked += 1
    assert checked >= 5, "the instance no longer has engineers with a few options each"


def test_the_bound_holds_at_any_prices_and_is_at_least_the_relaxations_at_its_own() -> None:
    engineers, cases = roster(20, 3), case_load(30, 3, horizon_days=20, lead_rules=True)
    optimum = solve(engineers, cases, time_limit=20)
    assert optimum.status == "optimal"
    m = build(engineers, cases)
    r = rows(m)
    relaxed, _, _, prices = domain.priced_relaxation(m, r, np.ones(m.options, dtype=bool), time_limit=10)
    bound = EngineerBound(m, r)
    at_prices, _ = bound.value(prices)
    assert relaxed - 1e-6 <= at_prices <= optimum.objective + 1e-6
    rng = np.random.default_rng(3)
    for _ in range(10):  # weak duality: whatever the prices
        assert bound.value(rng.normal(0, 800, len(r.lower)))[0] <= optimum.objective + 1e-6
    raised = bound.improve(prices, target=optimum.objective, deadline=time.perf_counter() + 1)
    assert relaxed <= raised <= optimum.objective
    collect = bound_beside(m, r, prices, target=optimum.objective, deadline=time.perf_counter() + 1)
    assert collect is not None
    beside = collect(30.0)  # its first word: the bound at the relaxation's prices
    assert beside is not None and relaxed <= beside <= optimum.objective


@pytest.mark.parametrize("workers", [1, 2])
def test_large_loads_take_the_decomposition_bound_and_keep_every_rule(monkeypatch: pytest.MonkeyPatch,
                                                                      workers: int) -> None:
    # above SEARCH_OPTIONS branch and cut cannot take the whole model: the decomposition bound is the one
    # reported, beside the search on a second core or, with one, for a share of the time before it
    monkeypatch.setattr(domain, "SEARCH_OPTIONS", 50)
    engineers, cases = roster(25, 7), case_load(60, 7, horizon_days=30, lead_rules=True)
    found = solve(engineers, cases, time_limit=3, workers=workers)
    assert violations(engineers, cases, found.teams) == []
    assert found.bound <= found.objective
    assert ("decomposition" in found.steps) == (workers == 1)
