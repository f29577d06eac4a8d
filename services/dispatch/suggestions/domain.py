"""Suggested assignment (pure, no I/O): the S3 hard rules plus preferences, solved to a proven bound.

Hard rules (never broken by a suggestion): grade at least the policy's minimum, exactly the policy's
head count, a skill for the case's equipment type, required certificates valid until the planned end,
no overlap with the engineer's calendar or other assignments, nor between suggested cases, and exactly
one project manager for teams of two or more, qualified as the policy asks of a project manager
(a minimum grade, certificates); among the qualified members the most senior leads.
Preferences (the objective, lower is better, never negative): each unstaffed case UNSTAFFED_PENALTY,
per member TRAVEL_WEIGHT x the distance from home region to the site plus SKILL_WEIGHT x the levels
short of the top level, and BALANCE_WEIGHT x each engineer's days beyond the fair share.

How it is solved (decision 0096): the linear relaxation (HiGHS) with one clique row per engineer and
overlapping window (exact for intervals) gives a bound, proven from its duals by `dual_bound`; reduced
costs drop every option that cannot be in a better answer than the incumbent; HiGHS' branch and cut
then searches what is left from the incumbent (greedy, or the relaxation rounded), in a worker process
stopped at the time limit, while a large neighbourhood search improves the incumbent beside it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from services.dispatch.staffing.domain import Busy, EngineerFacts, Requirement, overlaps

UNSTAFFED_PENALTY = 10_000  # one unstaffed case outweighs any travel / balance difference
TRAVEL_WEIGHT = 10
BALANCE_WEIGHT = 5  # per engineer-day beyond the fair share
SKILL_WEIGHT = 1  # per level below TOP_LEVEL
TOP_LEVEL = 5
SKILL_BONUS = 1  # the replanning repair's own slot cost still rewards levels (services/dispatch/replanning)
UNKNOWN_DISTANCE = 4
PRICED_PER_CASE = 6  # options per case beyond the head count in the first restricted relaxation
RELAXATION_SHARE = 0.5  # of the time limit, at most, for the relaxation (its bound holds at any stop)
IMPROVE_SHARE = 0.1  # of the time limit, at most, for the local search on the incumbent
DECOMPOSITION_SHARE = 0.1  # of the time limit for the decomposition bound (large models) on one core
SEARCH_OPTIONS = 15_000  # above this many options left by fixing, branch and cut sees the lowest reduced costs

# Travel between regions (0 = same region), symmetric; pairs not listed cost UNKNOWN_DISTANCE.
REGION_DISTANCE: dict[frozenset[str], int] = {
    frozenset({"east", "north"}): 2, frozenset({"east", "south"}): 2, frozenset({"east", "central"}): 1,
    frozenset({"east", "northeast"}): 3, frozenset({"east", "southwest"}): 3, frozenset({"east", "northwest"}): 4,
    frozenset({"north", "south"}): 3, frozenset({"north", "central"}): 1, frozenset({"north", "northeast"}): 1,
    frozenset({"north", "southwest"}): 3, frozenset({"north", "northwest"}): 2,
    frozenset({"south", "central"}): 1, frozenset({"south", "northeast"}): 4, frozenset({"south", "southwest"}): 2,
    frozenset({"south", "northwest"}): 4, frozenset({"central", "northeast"}): 2,
    frozenset({"central", "southwest"}): 2, frozenset({"central", "northwest"}): 2,
    frozenset({"northeast", "southwest"}): 4, frozenset({"northeast", "northwest"}): 3,
    frozenset({"southwest", "northwest"}): 2,
}

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]


def distance(a: str, b: str) -> int:
    return 0 if a == b else REGION_DISTANCE.get(frozenset({a, b}), UNKNOWN_DISTANCE)


@dataclass(frozen=True)
class EngineerProfile(EngineerFacts):
    home_region: str
    skills: dict[str, int]  # equipment type -> level
    certificates: dict[str, date] = field(default_factory=dict)
    busy: tuple[Busy, ...] = ()


@dataclass(frozen=True)
class CaseNeed:
    case_id: str
    region: str
    equipment_type: str
    start: datetime
    end: datetime
    requirement: Requirement


@dataclass
class Suggestion:
    solver: str  # "cp-sat" or "greedy"
    status: str  # "optimal", "feasible" or "greedy"
    objective: int
    wall_time_ms: int
    teams: dict[str, list[str]]  # case id -> engineer ids, project manager first
    unstaffed: dict[str, str]  # case id -> why
    bound: int = 0  # proven: no assignment under every hard rule scores below it
    gap: float = 0.0  # (objective - bound) / (objective - unavoidable penalties); 0 when proven optimal
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of the search (benchmark)


def _certified(e: EngineerProfile, certificates: Sequence[str], until: date) -> bool:
    return all(cert in e.certificates and e.certificates[cert] >= until for cert in certificates)


def eligible(e: EngineerProfile, c: CaseNeed) -> bool:
    """S3: every hard rule that concerns one engineer and one case."""
    r = c.requirement
    return (e.grade >= r.min_grade and c.equipment_type in e.skills
            and _certified(e, r.certificates, c.end.date())
            and not any(overlaps(c.start, c.end, b.start, b.end) for b in e.busy))


def may_lead(e: EngineerProfile, c: CaseNeed) -> bool:
    """S3: whether the engineer is qualified as the case's project manager (the policy's grade and
    certificates for the project manager; any member when the policy asks nothing more)."""
    r = c.requirement
    return e.grade >= r.project_manager_min_grade and _certified(e, r.project_manager_certificates, c.end.date())


def needs_lead(c: CaseNeed) -> bool:
    """S3: a team of two or more has one project manager."""
    return c.requirement.head_count >= 2


def _days(c: CaseNeed) -> int:
    return max(1, round((c.end - c.start).total_seconds() / 86400))


def fair_share(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed]) -> int:
    """S3 balance: the engineer-days every case asks for, spread evenly (rounded up); days beyond it cost."""
    demand = sum(c.requirement.head_count * _days(c) for c in cases)
    return math.ceil(demand / len(engineers)) if engineers else 0


def option_cost(e: EngineerProfile, c: CaseNeed) -> int:
    """S3 preference: travel from the home region plus the skill levels short of the top (never negative)."""
    return (TRAVEL_WEIGHT * distance(e.home_region, c.region)
            + SKILL_WEIGHT * max(0, TOP_LEVEL - e.skills.get(c.equipment_type, 0)))


def objective(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed],
              teams: Mapping[str, Sequence[str]]) -> int:
    """S3: the score every solver is compared by and bounded in (lower is better, never negative)."""
    by_id = {e.engineer_id: e for e in engineers}
    load = dict.fromkeys(by_id, 0)
    total = 0
    for c in cases:
        team = teams.get(c.case_id)
        if not team:
            total += UNSTAFFED_PENALTY
            continue
        for eid in team:
            total += option_cost(by_id[eid], c)
            load[eid] += _days(c)
    share = fair_share(engineers, cases)
    return total + BALANCE_WEIGHT * sum(max(0, days - share) for days in load.values())


def with_project_manager(team: list[str], engineers: Mapping[str, EngineerProfile],
                         case: CaseNeed | None = None) -> list[str]:
    """S3: the project manager first: the most senior member qualified to lead the case."""
    def key(eid: str) -> tuple[bool, int, str]:
        e = engineers[eid]
        return (case is not None and not may_lead(e, case), -e.grade, eid)
    return sorted(team, key=key)


def greedy(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed]) -> Suggestion:
    """S3 fallback: the most constrained case first, each taking its nearest, least loaded eligible engineers
    (a qualified project manager first when the team needs one)."""
    started = time.perf_counter()
    by_id = {e.engineer_id: e for e in engineers}
    taken: dict[str, list[tuple[datetime, datetime]]] = {e.engineer_id: [] for e in engineers}
    load = dict.fromkeys(by_id, 0)
    options = {c.case_id: [e for e in engineers if eligible(e, c)] for c in cases}
    teams: dict[str, list[str]] = {}
    unstaffed: dict[str, str] = {}
    for c in sorted(cases, key=lambda c: (len(options[c.case_id]) - c.requirement.head_count, c.start)):
        free = [e for e in options[c.case_id]
                if not any(overlaps(c.start, c.end, s, t) for s, t in taken[e.engineer_id])]
        free.sort(key=lambda e: (option_cost(e, c), load[e.engineer_id], e.engineer_id))
        need = c.requirement.head_count
        if len(free) < need:
            unstaffed[c.case_id] = f"{len(free)} eligible engineers free, {need} needed"
            continue
        team = free[:need]
        if needs_lead(c) and not any(may_lead(e, c) for e in team):
            lead = next((e for e in free[need:] if may_lead(e, c)), None)
            if lead is None:
                unstaffed[c.case_id] = "no free engineer qualified as the project manager"
                continue
            team = [lead, *team[:need - 1]]
        for e in team:
            taken[e.engineer_id].append((c.start, c.end))
            load[e.engineer_id] += _days(c)
        teams[c.case_id] = with_project_manager([e.engineer_id for e in team], by_id, c)
    score = objective(engineers, cases, teams)
    return Suggestion("greedy", "greedy", score, int((time.perf_counter() - started) * 1000), teams, unstaffed,
                      bound=0, gap=_gap(score, 0))


def _gap(score: int, bound: int, unavoidable: int = 0) -> float:
    """(objective - bound) over the part of the objective an answer can change: the penalty of a case no
    team can ever staff (too few eligible engineers, or none qualified to lead) is in every answer and in
    every bound, and would only dilute the gap."""
    return max(0.0, (score - bound) / (score - unavoidable)) if score > unavoidable else 0.0


def unavoidable(m: Model) -> int:
    """S3: the penalty of the cases that no team meets every rule for, whatever else is decided."""
    return UNSTAFFED_PENALTY * int((~m.staffable).sum())


# ---------------------------------------------------------------------------------------------------------
# The model as arrays: one option per (engineer, case) that passes every one-to-one rule.


@dataclass(frozen=True)
class Model:
    """S3 as a 0-1 model. Variables: each option (taken or not), each case (staffed or not), each
    engineer's days beyond the fair share. Rows: a staffed case takes exactly its head count; a team of
    two or more holds a member qualified to lead; an engineer takes at most one case of each clique of
    overlapping windows; the days beyond the fair share are at least the load minus the share."""

    engineer: Ints  # option -> engineer index
    case: Ints  # option -> case index
    cost: Ints  # option -> cost
    leads: Flags  # option -> the engineer may lead the case (S3's project manager)
    days: Ints  # case -> days
    head: Ints  # case -> head count
    lead_row: Flags  # case -> a project manager is needed
    staffable: Flags  # case -> enough eligible engineers (and a qualified lead) exist at all
    cliques: list[list[int]]  # options that overlap in time for one engineer
    share: int
    engineers: int
    start: Ints  # case -> start (minutes from the first case's)
    end: Ints  # case -> end (minutes from the first case's start; after its start)

    @property
    def options(self) -> int:
        return len(self.engineer)


def _minutes(t: datetime, origin: datetime) -> int:
    return int((t - origin).total_seconds() // 60)


def build(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed]) -> Model:
    """S3: every option that passes the grade, skill, certificate and calendar rules, found with array
    masks (engineers x cases), and the clique rows of each engineer's overlapping options."""
    n_e, n_c = len(engineers), len(cases)
    origin = min((c.start for c in cases), default=datetime(2000, 1, 1))
    c_start = np.array([_minutes(c.start, origin) for c in cases], dtype=np.int64)
    c_end = np.array([max(_minutes(c.start, origin) + 1, _minutes(c.end, origin)) for c in cases], dtype=np.int64)
    types = sorted({c.equipment_type for c in cases})
    type_of = {t: i for i, t in enumerate(types)}
    level = np.zeros((n_e, len(types)), dtype=np.int64)
    skilled = np.zeros((n_e, len(types)), dtype=bool)
    for i, e in enumerate(engineers):
        for t, lv in e.skills.items():
            if t in type_of:
                level[i, type_of[t]], skilled[i, type_of[t]] = lv, True
    c_type = np.array([type_of[c.equipment_type] for c in cases], dtype=np.int64)
    grade = np.array([e.grade for e in engineers], dtype=np.int64)
    ok = grade[:, None] >= np.array([c.requirement.min_grade for c in cases], dtype=np.int64)[None, :]
    ok &= skilled[:, c_type]
    lead = grade[:, None] >= np.array([c.requirement.project_manager_min_grade for c in cases],
                                      dtype=np.int64)[None, :]
    certs = sorted({k for c in cases
                    for k in (*c.requirement.certificates, *c.requirement.project_manager_certificates)})
    for k in certs:
        expiry = np.array([e.certificates[k].toordinal() if k in e.certificates else -1 for e in engineers])
        valid = expiry[:, None] >= np.array([c.end.date().toordinal() for c in cases])[None, :]
        ok &= valid | ~np.array([k in c.requirement.certificates for c in cases])[None, :]
        lead &= valid | ~np.array([k in c.requirement.project_manager_certificates for c in cases])[None, :]
    for i, e in enumerate(engineers):
        for b in e.busy:
            ok[i] &= ~((c_start < _minutes(b.end, origin)) & (_minutes(b.start, origin) < c_end))
    case_of, engineer_of = np.nonzero(ok.T)  # options ordered by case, then engineer
    regions = sorted({e.home_region for e in engineers} | {c.region for c in cases})
    region_of = {r: i for i, r in enumerate(regions)}
    dist = np.array([[distance(a, b) for b in regions] for a in regions], dtype=np.int64).reshape(len(regions), -1)
    home = np.array([region_of[e.home_region] for e in engineers], dtype=np.int64)
    site = np.array([region_of[c.region] for c in cases], dtype=np.int64)
    cost = (TRAVEL_WEIGHT * dist[home[engineer_of], site[case_of]]
            + SKILL_WEIGHT * np.maximum(0, TOP_LEVEL - level[engineer_of, c_type[case_of]]))
    days = np.array([_days(c) for c in cases], dtype=np.int64)
    head = np.array([c.requirement.head_count for c in cases], dtype=np.int64)
    leads = lead[engineer_of, case_of]
    lead_row = head >= 2
    staffable = (np.bincount(case_of, minlength=n_c) >= head) & \
        (~lead_row | (np.bincount(case_of, weights=leads, minlength=n_c) >= 1))
    return Model(engineer_of.astype(np.int64), case_of.astype(np.int64), cost.astype(np.int64), leads, days, head,
                 lead_row, staffable, _cliques(engineer_of, c_start[case_of], c_end[case_of]),
                 fair_share(engineers, cases), n_e, c_start, c_end)


def _cliques(engineer: npt.NDArray[np.intp], start: Ints, end: Ints) -> list[list[int]]:
    """Per engineer, the maximal sets of options whose windows share a moment: at most one of each is taken.
    For intervals these rows are the whole no-overlap rule (Helly), and the tightest linear form of it."""
    order = np.lexsort((start, engineer))
    eng, st, en, idx = engineer[order].tolist(), start[order].tolist(), end[order].tolist(), order.tolist()
    found: list[list[int]] = []
    n, j = len(idx), 0
    active: list[int] = []
    while j < n:
        if j == 0 or eng[j] != eng[j - 1]:
            active = []
        s, k = st[j], j
        while k < n and eng[k] == eng[j] and st[k] == s:
            k += 1
        active = [a for a in active if en[a] > s] + list(range(j, k))
        following = st[k] if k < n and eng[k] == eng[j] else None
        # the set grows until a member ends: only then is it maximal
        if len(active) > 1 and (following is None or min(en[a] for a in active) <= following):
            found.append([idx[a] for a in active])
        j = k
    return found


# ---------------------------------------------------------------------------------------------------------
# The relaxation and its proven bound.


@dataclass(frozen=True)
class Rows:
    """The model's rows in one sparse row-wise form (the relaxation and the bound read the same arrays)."""

    start: Ints
    column: Ints
    value: Floats
    lower: Floats
    upper: Floats
    cost: Floats  # per column: options, then cases (staffed), then engineers (days beyond the share)
    column_lower: Floats
    column_upper: Floats
    offset: float


def rows(m: Model) -> Rows:
    """S3 model rows (see `Model`), with the cost per column: the unstaffed penalty is paid as a constant
    and earned back per staffed case, so every column of the relaxation is bounded."""
    p, n_c, n_e = m.options, len(m.head), m.engineers
    staffed_col, beyond_col = p, p + n_c
    opt = np.arange(p, dtype=np.int64)
    parts_row, parts_col, parts_val = [], [], []
    # a staffed case takes its head count: sum x - head * staffed = 0
    parts_row += [m.case, np.arange(n_c)]
    parts_col += [opt, staffed_col + np.arange(n_c)]
    parts_val += [np.ones(p), -m.head.astype(np.float64)]
    lower, upper = [np.zeros(n_c)], [np.zeros(n_c)]
    base = n_c
    # a lead is among the team: sum of qualified x - staffed >= 0
    lead_cases = np.flatnonzero(m.lead_row)
    lead_index = np.full(n_c, -1)
    lead_index[lead_cases] = np.arange(len(lead_cases))
    mine = m.leads & m.lead_row[m.case]
    parts_row += [base + lead_index[m.case[mine]], base + np.arange(len(lead_cases))]
    parts_col += [opt[mine], staffed_col + lead_cases]
    parts_val += [np.ones(int(mine.sum())), -np.ones(len(lead_cases))]
    lower.append(np.zeros(len(lead_cases)))
    upper.append(np.full(len(lead_cases), np.inf))
    base += len(lead_cases)
    # one case per clique
    sizes = np.array([len(q) for q in m.cliques], dtype=np.int64)
    parts_row.append(base + np.repeat(np.arange(len(m.cliques)), sizes))
    parts_col.append(np.array([k for q in m.cliques for k in q], dtype=np.int64))
    parts_val.append(np.ones(int(sizes.sum())))
    lower.append(np.full(len(m.cliques), -np.inf))
    upper.append(np.ones(len(m.cliques)))
    base += len(m.cliques)
    # days beyond the share: sum days * x - beyond <= share
    parts_row += [base + m.engineer, base + np.arange(n_e)]
    parts_col += [opt, beyond_col + np.arange(n_e)]
    parts_val += [m.days[m.case].astype(np.float64), -np.ones(n_e)]
    lower.append(np.full(n_e, -np.inf))
    upper.append(np.full(n_e, float(m.share)))
    row = np.concatenate(parts_row).astype(np.int64)
    order = np.argsort(row, kind="stable")
    n_rows = base + n_e
    most = np.bincount(m.engineer, weights=m.days[m.case], minlength=n_e)  # no engineer carries more
    return Rows(
        start=np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n_rows))]).astype(np.int64),
        column=np.concatenate(parts_col).astype(np.int64)[order],
        value=np.concatenate(parts_val).astype(np.float64)[order],
        lower=np.concatenate(lower), upper=np.concatenate(upper),
        cost=np.concatenate([m.cost.astype(np.float64), np.full(n_c, -float(UNSTAFFED_PENALTY)),
                             np.full(n_e, float(BALANCE_WEIGHT))]),
        column_lower=np.zeros(p + n_c + n_e),
        column_upper=np.concatenate([np.ones(p), m.staffable.astype(np.float64), np.maximum(0.0, most - m.share)]),
        offset=float(UNSTAFFED_PENALTY * n_c))


def dual_bound(r: Rows, duals: Floats) -> tuple[int, Floats]:
    """S3 proof of the bound: for any row prices y (signs put right first), the objective of every answer
    is at least offset + sum_r y_r * (the row's bound on y_r's side) + sum_j min over the column's bounds
    of (cost_j - (A^T y)_j) * x_j (weak duality, exact arithmetic aside: a relative margin of 1e-7 covers
    rounding). The objective is an integer, so the bound is rounded up. Returns it with the reduced costs."""
    y = duals.copy()
    y[np.isinf(r.lower) & (y > 0)] = 0.0  # a <= row prices at most 0
    y[np.isinf(r.upper) & (y < 0)] = 0.0  # a >= row prices at least 0
    row_of = np.repeat(np.arange(len(r.lower)), np.diff(r.start))
    priced = np.bincount(r.column, weights=r.value * y[row_of], minlength=len(r.cost))
    reduced = r.cost - priced
    side = np.where(y > 0, r.lower, r.upper)
    rows_part = float(np.sum(np.where(y != 0, y * np.where(np.isinf(side), 0.0, side), 0.0)))
    columns_part = float(np.sum(np.minimum(reduced * r.column_lower, reduced * r.column_upper)))
    value = r.offset + rows_part + columns_part
    return math.ceil(value - 1e-7 * max(1.0, abs(value))), reduced


def _highs(r: Rows, *, time_limit: float, upper: Floats | None = None, lower: Floats | None = None,
           integers: int = 0, interrupt: bool = True) -> Any:
    """HiGHS loaded with the rows (the first `integers` columns 0-1 when solving the integer model),
    interrupted at the time limit by a callback unless `interrupt` is False (a worker stopped from outside:
    the callback runs at every simplex iteration and slows HiGHS down)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.1, time_limit))
    h.setOptionValue("mip_rel_gap", 0.0)  # the objective is an integer: stop at a proven optimum, not near one
    h.setOptionValue("mip_abs_gap", 0.999)
    # one thread: HiGHS fixes its pool per process at first use (and refuses another count later), and on
    # a loaded machine its concurrent MIP workers wait on each other past the time limit
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 7)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(r.cost), len(r.lower)
    lp.col_cost_ = r.cost
    lp.col_lower_ = r.column_lower if lower is None else lower
    lp.col_upper_ = r.column_upper if upper is None else upper
    lp.row_lower_ = np.where(np.isinf(r.lower), -highspy.kHighsInf, r.lower)
    lp.row_upper_ = np.where(np.isinf(r.upper), highspy.kHighsInf, r.upper)
    lp.offset_ = r.offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_ = r.start.astype(np.int32)
    lp.a_matrix_.index_ = r.column.astype(np.int32)
    lp.a_matrix_.value_ = r.value
    if integers:
        lp.integrality_ = ([highspy.HighsVarType.kInteger] * integers
                           + [highspy.HighsVarType.kContinuous] * (len(r.cost) - integers))
    h.passModel(lp)
    if not interrupt:
        return h
    deadline = time.perf_counter() + time_limit

    def stop(event: Any) -> None:  # HiGHS checks its own limit too seldom inside cut rounds
        if time.perf_counter() > deadline:
            event.interrupt()

    h.cbSimplexInterrupt += stop
    h.cbMipInterrupt += stop
    return h


def relaxation(r: Rows, *, time_limit: float) -> tuple[Floats, Floats]:
    """The linear relaxation by HiGHS' dual simplex: the fractional answer and the row prices."""
    h = _highs(r, time_limit=time_limit)
    h.run()
    solution = h.getSolution()
    if not solution.dual_valid:
        return np.zeros(len(r.cost)), np.zeros(len(r.lower))
    return np.asarray(solution.col_value, dtype=np.float64), np.asarray(solution.row_dual, dtype=np.float64)


def _restricted(r: Rows, columns: Flags) -> Rows:
    """The same rows over a subset of the columns (the others held at 0)."""
    entry = columns[r.column]
    row_of = np.repeat(np.arange(len(r.lower)), np.diff(r.start))[entry]
    renumber = np.cumsum(columns) - 1
    return Rows(np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=len(r.lower)))]).astype(np.int64),
                renumber[r.column[entry]], r.value[entry], r.lower, r.upper, r.cost[columns],
                r.column_lower[columns], r.column_upper[columns], r.offset)


def priced_relaxation(m: Model, r: Rows, start: Flags, *,
                      time_limit: float) -> tuple[int, Floats, Floats, Floats]:
    """The relaxation by column generation: solve it over a few options per case, price every option with
    the row prices, add those that would lower it and solve again from the last basis, until none would
    (the relaxation's optimum) or time is up. Any row prices prove a bound (`dual_bound`), so a stop at
    the time limit still proves one. Returns the bound, the relaxation's values, the reduced costs and the
    row prices that proved the bound."""
    deadline = time.perf_counter() + time_limit
    columns = np.ones(len(r.cost), dtype=bool)
    columns[:m.options] = start
    order = np.flatnonzero(columns)  # the solver's columns, as columns of the whole model
    h = _highs(_restricted(r, columns), time_limit=time_limit)
    by_column = np.argsort(r.column, kind="stable")  # the matrix column-wise, for the columns that enter
    column_start = np.concatenate([[0], np.cumsum(np.bincount(r.column, minlength=len(r.cost)))])
    row_of = np.repeat(np.arange(len(r.lower)), np.diff(r.start))
    best, values, reduced, duals = -(2 ** 62), np.zeros(len(r.cost)), r.cost.copy(), np.zeros(len(r.lower))
    while True:
        h.setOptionValue("time_limit", max(0.1, deadline - time.perf_counter()))
        h.run()
        solution = h.getSolution()
        if not solution.dual_valid:
            return max(best, 0), values, reduced, duals
        prices = np.asarray(solution.row_dual, dtype=np.float64)
        bound, priced = dual_bound(r, prices)
        if bound > best:
            best, reduced, duals = bound, priced, prices
            values = np.zeros(len(r.cost))
            values[order] = np.asarray(solution.col_value)
        entering = (priced[:m.options] < -1e-6) & ~columns[:m.options]
        if not entering.any() or time.perf_counter() >= deadline:
            return best, values, reduced, duals
        # the most attractive first, a bounded number a round so the restricted relaxation stays small
        chosen = np.flatnonzero(entering)
        chosen = chosen[np.argsort(priced[chosen], kind="stable")[:max(2000, len(chosen) // 2)]]
        columns[chosen] = True
        order = np.concatenate([order, chosen])
        counts = column_start[chosen + 1] - column_start[chosen]
        entries = by_column[np.concatenate([np.arange(column_start[k], column_start[k + 1]) for k in chosen])]
        h.addCols(len(chosen), r.cost[chosen], r.column_lower[chosen], r.column_upper[chosen], len(entries),
                  np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32),
                  row_of[entries].astype(np.int32), r.value[entries])


def cheapest(m: Model, per_case: int) -> Flags:
    """The `head + per_case` cheapest options of each case: where the relaxation's optimum mostly lies."""
    order = np.lexsort((m.cost, m.case))
    rank = np.empty(m.options, dtype=np.int64)
    rank[order] = np.arange(m.options) - np.searchsorted(m.case[order], m.case[order])
    return rank < m.head[m.case] + per_case


def trivial_bound(m: Model) -> int:
    """S3: without overlaps or balance every case takes its cheapest eligible engineers (or stays unstaffed)."""
    total = UNSTAFFED_PENALTY * int((~m.staffable).sum())
    order = np.lexsort((m.cost, m.case))
    rank = np.arange(m.options) - np.searchsorted(m.case[order], m.case[order])
    cheapest = np.bincount(m.case[order], weights=np.where(rank < m.head[m.case[order]], m.cost[order], 0),
                           minlength=len(m.head))
    return total + int(np.minimum(cheapest, UNSTAFFED_PENALTY)[m.staffable].sum())


def rounded(m: Model, x: Floats, reduced: Floats) -> dict[int, list[int]]:
    """A heuristic answer from the relaxation (case -> option indices): options in order of relaxation value,
    then reduced cost, each taken while its case has room and its engineer is free (the integral part of
    the relaxation never conflicts with itself, so it is kept whole); a case left short is given up."""
    p = m.options
    clique_of: dict[int, list[int]] = {}
    for qi, q in enumerate(m.cliques):
        for k in q:
            clique_of.setdefault(k, []).append(qi)
    full = [False] * len(m.cliques)
    teams: dict[int, list[int]] = {}
    staffable, head, lead_row, leads, case = (m.staffable.tolist(), m.head.tolist(), m.lead_row.tolist(),
                                              m.leads.tolist(), m.case.tolist())
    for k in np.lexsort((reduced[:p], -np.round(x[:p], 6))).tolist():
        c = case[k]
        team = teams.setdefault(c, [])
        if not staffable[c] or len(team) == head[c] or any(full[qi] for qi in clique_of.get(k, ())):
            continue
        if lead_row[c] and len(team) == head[c] - 1 and not leads[k] and not any(leads[j] for j in team):
            continue
        team.append(k)
        for qi in clique_of.get(k, ()):
            full[qi] = True
    return {c: ks for c, ks in teams.items() if len(ks) == head[c]}


def improve(m: Model, teams: Mapping[int, Sequence[int]], *, deadline: float) -> dict[int, list[int]]:
    """Local search on an answer (case -> options): swap one member for a free eligible engineer whenever
    travel, skill and the days beyond the fair share together drop (the lead rule kept); then staff a case
    left unstaffed when a free team exists. Repeats while it pays and time is left."""
    members = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(np.array([len(q) for q in m.cliques],
                                                                              dtype=np.int64))])
    flat = np.array([k for q in m.cliques for k in q], dtype=np.int64)
    owner = np.repeat(np.arange(len(m.cliques)), np.diff(members))
    by_option = np.argsort(flat, kind="stable")  # option -> its cliques, through a CSR index
    option_start = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=m.options))])
    cliques_of = owner[by_option]
    occupied = np.zeros(len(m.cliques), dtype=np.int64)
    load = np.zeros(m.engineers, dtype=np.int64)
    answer = {c: list(ks) for c, ks in teams.items()}

    def mark(k: int, step: int) -> None:
        occupied[cliques_of[option_start[k]:option_start[k + 1]]] += step
        load[m.engineer[k]] += step * m.days[m.case[k]]

    for ks in answer.values():
        for k in ks:
            mark(k, 1)
    case_start = np.searchsorted(m.case, np.arange(len(m.head) + 1))  # options are ordered by case

    def free(ks: npt.NDArray[np.int64]) -> Flags:
        hits = np.zeros(len(ks), dtype=np.int64)
        for i, k in enumerate(ks.tolist()):
            hits[i] = occupied[cliques_of[option_start[k]:option_start[k + 1]]].sum()
        return hits == 0

    def beyond(days: Ints) -> Ints:
        return BALANCE_WEIGHT * np.maximum(0, days - m.share)

    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for c in list(answer):
            if time.perf_counter() >= deadline:
                break
            d = int(m.days[c])
            for slot, k in enumerate(list(answer[c])):
                e = int(m.engineer[k])
                others = np.arange(case_start[c], case_start[c + 1])
                others = others[~np.isin(m.engineer[others], m.engineer[answer[c]])]
                if m.lead_row[c] and m.leads[k] and not any(m.leads[j] for j in answer[c] if j != k):
                    others = others[m.leads[others]]
                if not len(others):
                    continue
                leave = int(beyond(load[e:e + 1] - d)[0] - beyond(load[e:e + 1])[0]) - int(m.cost[k])
                gain = m.cost[others] + beyond(load[m.engineer[others]] + d) - beyond(load[m.engineer[others]]) + leave
                order = np.argsort(gain, kind="stable")
                order = order[gain[order] < 0]
                if not len(order):
                    continue
                mark(k, -1)
                candidates = others[order[:60]]
                ok = free(candidates)
                if ok.any():
                    j = int(candidates[np.argmax(ok)])
                    answer[c][slot] = j
                    mark(j, 1)
                    improved = True
                else:
                    mark(k, 1)
        for c in range(len(m.head)):
            if c in answer or not m.staffable[c] or time.perf_counter() >= deadline:
                continue
            options = np.arange(case_start[c], case_start[c + 1])
            options = options[free(options)]
            options = options[np.argsort(m.cost[options], kind="stable")]
            need = int(m.head[c])
            if len(options) < need:
                continue
            team = options[:need].tolist()
            if m.lead_row[c] and not any(m.leads[j] for j in team):
                lead = [j for j in options[need:].tolist() if m.leads[j]]
                if not lead:
                    continue
                team = [lead[0], *team[:need - 1]]
            answer[c] = team
            for j in team:
                mark(j, 1)
            improved = True
    return answer


def _vector(m: Model, teams: Mapping[int, Sequence[int]]) -> Floats:
    """An answer as the columns' values (options, staffed cases, days beyond the share)."""
    x = np.zeros(m.options + len(m.head) + m.engineers)
    load = np.zeros(m.engineers)
    for c, ks in teams.items():
        x[list(ks)] = 1.0
        x[m.options + c] = 1.0
        for k in ks:
            load[m.engineer[k]] += m.days[c]
    x[m.options + len(m.head):] = np.maximum(0.0, load - m.share)
    return x


def branch_and_cut(m: Model, r: Rows, pool: Flags, incumbent: Mapping[int, Sequence[int]], *,
                   time_limit: float) -> tuple[dict[int, list[int]], float]:
    """HiGHS' branch and cut over the options in `pool`, started from the incumbent: its best answer (case
    -> options) and its proven bound over those options."""

    columns = np.ones(len(r.cost), dtype=bool)
    columns[:m.options] = pool
    kept = np.flatnonzero(pool)
    h = _highs(_restricted(r, columns), time_limit=time_limit, integers=len(kept) + len(m.head))
    info = _run_from(h, m, incumbent, columns)
    answer = _teams(m, kept, h.getSolution().col_value) if info.primal_solution_status == 2 else {}  # feasible
    return answer, float(info.mip_dual_bound)


def _run_from(h: Any, m: Model, incumbent: Mapping[int, Sequence[int]], columns: Flags) -> Any:
    """S3: run HiGHS' branch and cut (over `columns`) started from the incumbent; its run's info."""
    import highspy

    start = highspy.HighsSolution()
    start.col_value = _vector(m, incumbent)[columns].tolist()
    start.value_valid = True
    h.setSolution(start)
    h.run()
    return h.getInfo()


def _teams(m: Model, kept: Any, values: Any) -> dict[int, list[int]]:
    """S3: the answer (case -> options) that a solution's values over the kept options stand for."""
    found: dict[int, list[int]] = {}
    for k in kept[np.asarray(values)[:len(kept)] > 0.5].tolist():
        found.setdefault(int(m.case[k]), []).append(k)
    return found


def _resolve(m: Model, r: Rows, answer: Mapping[int, Sequence[int]], free: Flags, pool: Flags, *,
             time_limit: float) -> dict[int, list[int]] | None:
    """Branch and cut on a neighbourhood of an answer: the cases in `free` may take any option in `pool`
    (their current teams included) or stay unstaffed, everything else is held as it is. The answer
    found when it scores lower, else None."""
    import highspy

    n_c = len(m.head)
    taken = np.zeros(m.options, dtype=bool)
    taken[[k for ks in answer.values() for k in ks]] = True
    fixed = taken & ~free[m.case]
    columns = np.ones(len(r.cost), dtype=bool)
    columns[:m.options] = ((pool | taken) & free[m.case]) | fixed
    lower = r.column_lower.copy()
    upper = r.column_upper.copy()
    lower[:m.options][fixed] = 1.0
    staffed_now = np.zeros(n_c)
    staffed_now[list(answer)] = 1.0
    lower[m.options:m.options + n_c][~free] = staffed_now[~free]
    upper[m.options:m.options + n_c][~free] = staffed_now[~free]
    h = _highs(_restricted(r, columns), time_limit=time_limit, lower=lower[columns], upper=upper[columns],
               integers=int(columns[:m.options].sum()) + n_c)
    start = highspy.HighsSolution()
    start.col_value = _vector(m, answer)[columns].tolist()
    start.value_valid = True
    h.setSolution(start)
    h.run()
    if h.getInfo().primal_solution_status != 2:  # no feasible answer
        return None
    kept = np.flatnonzero(columns[:m.options])
    values = np.asarray(h.getSolution().col_value)[:len(kept)]
    trial: dict[int, list[int]] = {}
    for k in kept[values > 0.5].tolist():
        trial.setdefault(int(m.case[k]), []).append(k)
    if all(len(ks) == m.head[c] for c, ks in trial.items()) and _score(m, trial) < _score(m, answer):
        return trial
    return None


Heard = tuple[dict[int, list[int]], "Floats | None"]


def polish(m: Model, r: Rows, incumbent: Mapping[int, Sequence[int]], x: Floats, *, deadline: float,
           listen: Callable[[Mapping[int, Sequence[int]]], Heard | None] | None = None,
           group: int = 15, sample: int = 80, each: float = 0.5) -> dict[int, list[int]]:
    """Large neighbourhood search for a model branch and cut can take whole (decision 0096): first the
    cases where the relaxation `x` and the incumbent differ are re-solved over the options the relaxation
    uses (RINS), then, in turn, the cases of a random group of engineers among those engineers (where the
    balance moves days from one engineer to another) and a random sample of cases with every option.
    `listen` is asked between steps: a better answer found elsewhere (branch and cut) replaces the
    incumbent, a new relaxation (with branch and cut's cuts: nearer the integer optimum) restarts from
    RINS, and None ends the search (branch and cut has proven its answer)."""
    rng = np.random.default_rng(7)
    answer = {c: list(ks) for c, ks in incumbent.items()}
    steps, guided = 0, -1  # RINS again whenever the answer or the relaxation changed since its last turn
    while deadline - time.perf_counter() > 0.1:
        if listen is not None:
            heard = listen(answer)
            if heard is None:
                break
            answer, guide = heard
            if guide is not None:
                x, guided = guide, -1
        taken = np.zeros(m.options, dtype=bool)
        taken[[k for ks in answer.values() for k in ks]] = True
        free = np.zeros(len(m.head), dtype=bool)
        limit = each
        if guided != _score(m, answer):
            guided, limit = _score(m, answer), 3 * each
            free[m.case[np.abs(x[:m.options] - taken) > 1e-6]] = True
            pool = x[:m.options] > 1e-6
        elif steps % 2:
            engineers = np.zeros(m.engineers, dtype=bool)
            engineers[rng.choice(m.engineers, min(group, m.engineers), replace=False)] = True
            free[m.case[taken & engineers[m.engineer]]] = True
            free[m.staffable] |= ~np.isin(np.flatnonzero(m.staffable), list(answer))
            pool = engineers[m.engineer]
        else:
            free[rng.choice(len(m.head), min(sample, len(m.head)), replace=False)] = True
            pool = np.ones(m.options, dtype=bool)
        steps += 1
        trial = _resolve(m, r, answer, free, pool, time_limit=min(limit, deadline - time.perf_counter()))
        if trial is not None:
            answer = trial
    return answer


def _branch_and_cut_worker(conn: Any, m: Model, r: Rows, pool: Flags, incumbent: Mapping[int, Sequence[int]],
                           time_limit: float) -> None:
    """In a worker process: HiGHS' branch and cut over the pool, telling the parent every rise of its
    proven bound, every better answer and its root cuts as it finds them (the parent may stop it at any
    moment). Presolve is off so that the cuts speak of the model's own columns."""

    columns = np.ones(len(r.cost), dtype=bool)
    columns[:m.options] = pool
    kept = np.flatnonzero(pool)
    h = _highs(_restricted(r, columns), time_limit=time_limit, integers=len(kept) + len(m.head), interrupt=False)
    h.setOptionValue("presolve", "off")
    told = [-math.inf]

    def bound(event: Any) -> None:
        lower = float(event.data_out.mip_dual_bound)
        if math.isfinite(lower) and lower > told[0]:
            told[0] = lower
            conn.send(("bound", lower, None))

    def better(event: Any) -> None:
        conn.send(("answer", -math.inf, _teams(m, kept, event.data_out.mip_solution)))

    def cuts(event: Any) -> None:
        out = event.data_out
        if out.cutpool_num_col == len(kept) + len(m.head) + m.engineers:
            conn.send(("cuts", float(out.mip_dual_bound), tuple(np.array(a) for a in (
                out.cutpool_start, out.cutpool_index, out.cutpool_value, out.cutpool_lower, out.cutpool_upper))))

    h.cbMipInterrupt += bound
    h.cbMipImprovingSolution += better
    h.cbMipGetCutPool += cuts
    info = _run_from(h, m, incumbent, columns)
    final = _teams(m, kept, h.getSolution().col_value) if info.primal_solution_status == 2 else None
    conn.send(("done", float(info.mip_dual_bound), final))
    conn.close()


def _with_cuts(m: Model, r: Rows, pool: Flags, cuts: tuple[Any, ...], *, time_limit: float) -> Floats | None:
    """The relaxation over the pool with branch and cut's root cuts added: a guide for RINS (its bound is
    not used: the bound reported is HiGHS' own)."""
    start, index, value, lower, upper = cuts
    columns = np.ones(len(r.cost), dtype=bool)
    columns[:m.options] = pool
    h = _highs(_restricted(r, columns), time_limit=time_limit)
    h.addRows(len(lower), lower, upper, len(index), np.asarray(start[:len(lower)], dtype=np.int32),
              np.asarray(index, dtype=np.int32), np.asarray(value, dtype=np.float64))
    h.run()
    solution = h.getSolution()
    if not solution.value_valid:
        return None
    x = np.zeros(len(r.cost))
    x[np.flatnonzero(columns)] = np.asarray(solution.col_value)
    return x


def forked(target: Callable[..., None], *args: Any) -> tuple[Any, Any] | None:
    """A worker process forked to run `target(conn, *args)`, which writes to `conn`: the reading end of its
    pipe and the process (the caller stops it), or None where a process cannot be forked or started."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=target, daemon=True, args=(send, *args))
    try:
        worker.start()
    except (AssertionError, OSError):  # a daemonic process may have no children; out of processes
        receive.close()
        return None
    finally:
        send.close()  # the worker holds its own copy
    return receive, worker


def bounded_branch_and_cut(m: Model, r: Rows, pool: Flags, incumbent: Mapping[int, Sequence[int]], x: Floats, *,
                           deadline: float, workers: int) -> tuple[dict[int, list[int]], float]:
    """Branch and cut over the pool that answers by the deadline (decision 0096): HiGHS runs in a worker
    process, which reports its proven bound, better answers and root cuts as it goes, and is stopped at
    the deadline (HiGHS' root cut rounds look at neither its time limit nor the interrupt); with a second
    worker the parent meanwhile improves the incumbent by `polish`, guided by the relaxation with those
    cuts once they come. Returns the best answer and the best bound proven over the pool. Where a process
    cannot be forked, branch and cut runs in this one."""
    started = forked(_branch_and_cut_worker, m, r, pool, incumbent, deadline - time.perf_counter() + 1.0)
    if started is None:
        return branch_and_cut(m, r, pool, incumbent, time_limit=deadline - time.perf_counter())
    receive, worker = started
    best = {c: list(ks) for c, ks in incumbent.items()}
    lower, done = -math.inf, False

    def hear(answer: Mapping[int, Sequence[int]], wait: float = 0.0) -> Heard | None:
        nonlocal best, lower, done
        best = {c: list(ks) for c, ks in answer.items()} if _score(m, answer) < _score(m, best) else best
        guide: Floats | None = None
        try:
            while not done and receive.poll(wait):
                kind, value, found = receive.recv()
                lower = max(lower, value) if math.isfinite(value) else lower
                done = kind == "done"
                if kind == "cuts" and workers >= 2:
                    guide = _with_cuts(m, r, pool, found, time_limit=max(0.1, deadline - time.perf_counter()))
                elif found and all(len(ks) == m.head[c] for c, ks in found.items()) and \
                        _score(m, found) < _score(m, best):
                    best = found
                wait = 0.0
        except (EOFError, OSError):  # the worker ended without a word: what it said before still holds
            done = True
        return None if done else (best, guide)

    try:
        if workers >= 2:
            hear(polish(m, r, best, x, deadline=deadline - 0.2, listen=hear))  # a sub-search may overrun a little
        while not done and time.perf_counter() < deadline:
            hear(best, wait=max(0.0, min(0.05, deadline - time.perf_counter())))
    finally:
        worker.kill()
        worker.join(1.0)
        receive.close()
    return best, lower


def neighbourhoods(m: Model, r: Rows, incumbent: Mapping[int, Sequence[int]], reduced: Floats, *,
                   deadline: float, cases_each: int = 150, per_case: int = 8) -> dict[int, list[int]]:
    """Large neighbourhood search: the cases of one stretch of time at a time are freed (their options
    with the lowest reduced costs, plus their current teams), everything else held as it is, and
    branch and cut re-solves that stretch from the incumbent; a better answer is kept."""
    answer = {c: list(ks) for c, ks in incumbent.items()}
    n_c = len(m.head)
    order = np.argsort(m.start, kind="stable")
    rank = np.empty(m.options, dtype=np.int64)
    by_case = np.lexsort((reduced[:m.options], m.case))
    rank[by_case] = np.arange(m.options) - np.searchsorted(m.case[by_case], m.case[by_case])
    low = rank < m.head[m.case] + per_case
    # sweeps over the quarter, each shifted by half a stretch, while one pays and time is left
    windows = [order[i:i + cases_each] for sweep in range(8)
               for i in range(-(cases_each // 2) * (sweep % 2), n_c, cases_each) if i + cases_each > 0]
    windows = [w if len(w) else order[:cases_each] for w in windows]
    unchanged = 0
    for w in windows:
        if deadline - time.perf_counter() < 0.5 or unchanged >= n_c // cases_each + 1:
            break
        unchanged += 1
        free = np.zeros(n_c, dtype=bool)
        free[w] = True
        each = max(2.0, (deadline - time.perf_counter()) / (n_c // cases_each + 1))  # a sweep in the time left
        trial = _resolve(m, r, answer, free, low, time_limit=min(deadline - time.perf_counter(), each))
        if trial is not None:
            answer, unchanged = trial, 0
    return answer


def constraint_search(m: Model, pool: Flags, incumbent: Mapping[int, Sequence[int]], *, time_limit: float,
                      workers: int, bound: int) -> tuple[dict[int, list[int]], float]:
    """CP-SAT over the options in `pool` (clique rows as at-most-one, the balance as one integer per
    engineer), hinted with the incumbent and told the proven bound: its best answer and its bound."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    kept = np.flatnonzero(pool).tolist()
    xs = {k: model.new_bool_var(f"x{k}") for k in kept}
    staffed = [model.new_bool_var(f"s{c}") for c in range(len(m.head))]
    members: dict[int, list[int]] = {}
    for k in kept:
        members.setdefault(int(m.case[k]), []).append(k)
    for c in range(len(m.head)):
        ks = members.get(c, [])
        if len(ks) < m.head[c] or not m.staffable[c]:
            model.add(staffed[c] == 0)
            continue
        model.add(sum(xs[k] for k in ks) == int(m.head[c]) * staffed[c])
        if m.lead_row[c]:
            model.add(sum(xs[k] for k in ks if m.leads[k]) >= staffed[c])
    for q in m.cliques:
        left = [xs[k] for k in q if k in xs]
        if len(left) > 1:
            model.add_at_most_one(left)
    beyond = []
    loads: dict[int, list[int]] = {}
    for k in kept:
        loads.setdefault(int(m.engineer[k]), []).append(k)
    for e, ks in loads.items():
        most = int(sum(m.days[m.case[k]] for k in ks))
        if most > m.share:
            b = model.new_int_var(0, most - m.share, f"b{e}")
            model.add(sum(int(m.days[m.case[k]]) * xs[k] for k in ks) - m.share <= b)
            beyond.append(b)
    total = (UNSTAFFED_PENALTY * len(m.head) - UNSTAFFED_PENALTY * sum(staffed)
             + sum(int(m.cost[k]) * xs[k] for k in kept) + BALANCE_WEIGHT * sum(beyond))
    model.add(total >= bound)
    model.minimize(total)
    chosen = {k for ks in incumbent.values() for k in ks}
    for k, v in xs.items():
        model.add_hint(v, k in chosen)
    for c, v in enumerate(staffed):
        model.add_hint(v, c in incumbent)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 7
    outcome = solver.solve(model)
    answer: dict[int, list[int]] = {}
    if outcome not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return answer, -math.inf
    for k, v in xs.items():
        if solver.value(v):
            answer.setdefault(int(m.case[k]), []).append(k)
    return answer, float(solver.objective_value if outcome == cp_model.OPTIMAL else solver.best_objective_bound)


def _score(m: Model, teams: Mapping[int, Sequence[int]]) -> int:
    load = np.zeros(m.engineers, dtype=np.int64)
    total = UNSTAFFED_PENALTY * (len(m.head) - len(teams))
    for c, ks in teams.items():
        for k in ks:
            total += int(m.cost[k])
            load[m.engineer[k]] += m.days[c]
    return total + BALANCE_WEIGHT * int(np.maximum(0, load - m.share).sum())


# ---------------------------------------------------------------------------------------------------------
# The search.


def solve(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed], *, time_limit: float,
          workers: int = 2, hint: Suggestion | None = None, engine: str = "highs") -> Suggestion:
    """S3: the best assignment found within the time limit, with its proven bound (decision 0096).

    1. The relaxation by column generation proves a bound (`priced_relaxation`, `dual_bound`).
    2. The incumbent: the better of the hint and the relaxation rounded, then improved by local search.
    3. Reduced-cost fixing: an option whose reduced cost alone lifts the bound past the incumbent is in
       no better answer; the others form the search's pool (when too many, the relaxation's own options).
    4. Branch and cut (HiGHS in a worker process stopped at the deadline, `polish` beside it; or CP-SAT
       with engine="cp-sat") over the pool, from the incumbent. Its bound counts only when the pool holds
       every option fixing left, i.e. when it speaks for the whole model; otherwise the bound is raised by
       decomposition per engineer (`decomposition.EngineerBound`) and the incumbent improved stretch by
       stretch (`neighbourhoods`), then by `polish`."""
    started = time.perf_counter()
    deadline = started + time_limit
    steps: dict[str, float] = {}
    m = build(engineers, cases)
    r = rows(m)
    steps["model"] = time.perf_counter() - started
    index = {(int(m.engineer[k]), int(m.case[k])): k for k in range(m.options)}
    position = {e.engineer_id: i for i, e in enumerate(engineers)}
    hinted: dict[int, list[int]] = {}
    if hint is not None:
        hinted = {ci: [index[(position[eid], ci)] for eid in hint.teams[c.case_id]]
                  for ci, c in enumerate(cases) if c.case_id in hint.teams}
    start = cheapest(m, PRICED_PER_CASE)
    start[[k for ks in hinted.values() for k in ks]] = True
    bound, x, reduced, duals = priced_relaxation(m, r, start, time_limit=RELAXATION_SHARE * time_limit)
    bound = max(bound, trivial_bound(m))
    steps["relaxation"] = time.perf_counter() - started - sum(steps.values())
    incumbent = rounded(m, x, reduced)
    if hinted and _score(m, hinted) < _score(m, incumbent):
        incumbent = hinted
    incumbent = improve(m, incumbent, deadline=min(deadline, time.perf_counter() + IMPROVE_SHARE * time_limit))
    best = _score(m, incumbent)
    steps["incumbent"] = time.perf_counter() - started - sum(steps.values())
    in_incumbent = np.zeros(m.options, dtype=bool)
    in_incumbent[[k for ks in incumbent.values() for k in ks]] = True
    # an answer better than the incumbent scores at least bound + the reduced cost of each option it takes
    keep = in_incumbent | (bound + np.maximum(0.0, reduced[:m.options]) <= best - 1 + 1e-6)
    pool = keep
    if keep.sum() > SEARCH_OPTIONS:  # too many for branch and cut in time: the most promising by reduced cost
        promising = np.zeros(m.options, dtype=bool)
        promising[np.argsort(reduced[:m.options], kind="stable")[:SEARCH_OPTIONS]] = True
        pool = keep & (promising | in_incumbent)
    whole = bool(np.all(pool | ~keep))
    solver_name = "cp-sat" if engine == "cp-sat" else "highs"
    if bound < best and not whole and deadline - time.perf_counter() > 1:
        # the pool speaks for part of the model only: its search cannot prove, so the bound is raised by
        # decomposition per engineer and the incumbent improved stretch by stretch
        # (on a second core beside the search when there is one, else for a share of the time first)
        from services.dispatch.suggestions.decomposition import EngineerBound, bound_beside

        beside = bound_beside(m, r, duals, target=best, deadline=deadline - 0.3) if workers >= 2 else None
        if beside is None:
            bound = max(bound, EngineerBound(m, r).improve(duals, target=best, deadline=min(
                deadline - 1, time.perf_counter() + DECOMPOSITION_SHARE * time_limit)))
            steps["decomposition"] = time.perf_counter() - started - sum(steps.values())
        incumbent = neighbourhoods(m, r, incumbent, reduced, deadline=deadline)
        if deadline - time.perf_counter() > 1:  # the stretches stopped paying: other neighbourhoods
            incumbent = polish(m, r, incumbent, x, deadline=deadline - 0.5, each=2.0)
        best = _score(m, incumbent)
        if beside is not None:
            bound = max(bound, beside(0.0) or bound)
        steps["search"] = time.perf_counter() - started - sum(steps.values())
    elif bound < best and deadline - time.perf_counter() > 0.05:
        if engine == "cp-sat":
            answer, lower = constraint_search(m, pool, incumbent, time_limit=deadline - time.perf_counter(),
                                              workers=workers, bound=bound)
        else:
            # the answer is assembled and scored after the search: a margin for it
            answer, lower = bounded_branch_and_cut(m, r, pool, incumbent, x, deadline=deadline - 0.1,
                                                   workers=workers)
        if answer and all(len(ks) == m.head[c] for c, ks in answer.items()) and _score(m, answer) < best:
            incumbent, best = answer, _score(m, answer)
        if whole and math.isfinite(lower):
            bound = max(bound, min(best, math.ceil(lower - 1e-6 * max(1.0, abs(lower)))))
        steps["search"] = time.perf_counter() - started - sum(steps.values())
    by_id = {e.engineer_id: e for e in engineers}
    teams: dict[str, list[str]] = {}
    unstaffed: dict[str, str] = {}
    for ci, c in enumerate(cases):
        if ci in incumbent:
            teams[c.case_id] = with_project_manager(
                [engineers[int(m.engineer[k])].engineer_id for k in incumbent[ci]], by_id, c)
        elif not m.staffable[ci]:
            unstaffed[c.case_id] = "fewer eligible engineers than the head count, or none qualified to lead"
        else:
            unstaffed[c.case_id] = "no team meets every rule without double-booking"
    score = objective(engineers, cases, teams)
    bound = min(bound, score)
    return Suggestion(solver_name, "optimal" if bound >= score else "feasible", score,
                      int((time.perf_counter() - started) * 1000), teams, unstaffed, bound=bound,
                      gap=_gap(score, bound, unavoidable(m)), steps=steps)


def cp_sat(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed], *, time_limit: float,
           workers: int = 2, hint: Suggestion | None = None) -> Suggestion | None:
    """S3: the search with CP-SAT as its branch and bound (kept for comparison; `solve` uses HiGHS)."""
    return solve(engineers, cases, time_limit=time_limit, workers=workers, hint=hint, engine="cp-sat")


def suggest(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed], *, time_limit: float,
            workers: int = 2) -> Suggestion:
    """S3: the proven search within the time limit, warm-started from greedy; greedy (with the best bound
    known) when the search fails or does worse."""
    fallback = greedy(engineers, cases)
    best: Suggestion | None
    try:
        best = solve(engineers, cases, time_limit=max(0.0, time_limit - fallback.wall_time_ms / 1000),
                     workers=workers, hint=fallback)
    except Exception:  # the solver must never cost the dispatcher an answer
        best = None
    if best is None or best.objective > fallback.objective:
        m = build(engineers, cases)
        fallback.bound = min(fallback.objective, best.bound if best else trivial_bound(m))
        fallback.gap = _gap(fallback.objective, fallback.bound, unavoidable(m))
        return fallback
    return best


def violations(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed],
               teams: Mapping[str, Sequence[str]]) -> list[str]:
    """S3: every hard rule a suggestion breaks (used by the tests on generated data)."""
    by_id = {e.engineer_id: e for e in engineers}
    found: list[str] = []
    windows: dict[str, list[CaseNeed]] = {}
    for c in cases:
        team = teams.get(c.case_id)
        if not team:
            continue
        if len(team) != c.requirement.head_count or len(set(team)) != len(team):
            found.append(f"{c.case_id}: team of {len(team)}, head count {c.requirement.head_count}")
        if needs_lead(c) and not may_lead(by_id[team[0]], c):
            found.append(f"{c.case_id}: project manager {team[0]} lacks the policy's grade or certificates to lead")
        for eid in team:
            if not eligible(by_id[eid], c):
                found.append(f"{c.case_id}: {eid} breaks a rule of grade, skill, certificate or calendar")
            windows.setdefault(eid, []).append(c)
    for eid, mine in windows.items():
        for i, a in enumerate(mine):
            for b in mine[i + 1:]:
                if overlaps(a.start, a.end, b.start, b.end):
                    found.append(f"{eid} double-booked on {a.case_id} and {b.case_id}")
    return found
