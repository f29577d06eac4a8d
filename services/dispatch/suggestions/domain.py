"""Suggested assignment (pure, no I/O): the S3 hard rules plus preferences, solved with OR-Tools CP-SAT
under a time limit, with a greedy fallback. Both are scored by the same objective.

Hard rules (never broken by a suggestion): grade at least the policy's minimum, exactly the policy's
head count, a skill for the case's equipment type, required certificates valid until the planned end,
no overlap with the engineer's calendar or other assignments, nor between suggested cases, and exactly
one project manager for teams of two or more (the most senior member).
Preferences (the objective, lower is better): staff as many cases as possible, least travel between the
engineer's home region and the site's region, balanced workload, higher skill levels.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from services.dispatch.staffing.domain import Busy, Requirement, overlaps
from shared.clock import utcnow

UNSTAFFED_PENALTY = 10_000  # one unstaffed case outweighs any travel / balance difference
TRAVEL_WEIGHT = 10
BALANCE_WEIGHT = 5
SKILL_BONUS = 1
UNKNOWN_DISTANCE = 4

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


def distance(a: str, b: str) -> int:
    return 0 if a == b else REGION_DISTANCE.get(frozenset({a, b}), UNKNOWN_DISTANCE)


@dataclass(frozen=True)
class EngineerProfile:
    engineer_id: str
    name: str
    grade: int
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


def eligible(e: EngineerProfile, c: CaseNeed) -> bool:
    """Every hard rule that concerns one engineer and one case."""
    r = c.requirement
    return (e.grade >= r.min_grade and c.equipment_type in e.skills
            and all(cert in e.certificates and e.certificates[cert] >= c.end.date() for cert in r.certificates)
            and not any(overlaps(c.start, c.end, b.start, b.end) for b in e.busy))


def _days(c: CaseNeed) -> int:
    return max(1, round((c.end - c.start).total_seconds() / 86400))


def objective(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed], teams: dict[str, list[str]]) -> int:
    """The score both solvers are compared by (lower is better)."""
    by_id = {e.engineer_id: e for e in engineers}
    load = dict.fromkeys(by_id, 0)
    total = 0
    for c in cases:
        team = teams.get(c.case_id)
        if not team:
            total += UNSTAFFED_PENALTY
            continue
        for eid in team:
            e = by_id[eid]
            total += TRAVEL_WEIGHT * distance(e.home_region, c.region) - SKILL_BONUS * e.skills.get(c.equipment_type, 0)
            load[eid] += _days(c)
    return total + BALANCE_WEIGHT * (max(load.values()) if load else 0)


def with_project_manager(team: list[str], engineers: dict[str, EngineerProfile]) -> list[str]:
    """The most senior engineer leads (first in the list); S3 needs one project manager from two up."""
    return sorted(team, key=lambda eid: (-engineers[eid].grade, eid))


def greedy(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed]) -> Suggestion:
    """Fallback: the most constrained case first, each taking its nearest, least loaded eligible engineers."""
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
        free.sort(key=lambda e: (distance(e.home_region, c.region), load[e.engineer_id],
                                 -e.skills.get(c.equipment_type, 0), e.engineer_id))
        need = c.requirement.head_count
        if len(free) < need:
            unstaffed[c.case_id] = f"{len(free)} eligible engineers free, {need} needed"
            continue
        team = [e.engineer_id for e in free[:need]]
        for eid in team:
            taken[eid].append((c.start, c.end))
            load[eid] += _days(c)
        teams[c.case_id] = with_project_manager(team, by_id)
    return Suggestion("greedy", "greedy", objective(engineers, cases, teams),
                      int((time.perf_counter() - started) * 1000), teams, unstaffed)


def cp_sat(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed], *, time_limit: float,
           workers: int = 2, hint: Suggestion | None = None) -> Suggestion | None:
    """Optimal (or best found within the time limit) assignment; None when no solution was found in time."""
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    by_id = {e.engineer_id: e for e in engineers}
    origin = min((c.start for c in cases), default=utcnow())
    model = cp_model.CpModel()
    x: dict[tuple[str, str], cp_model.IntVar] = {}
    intervals: dict[str, list] = {e.engineer_id: [] for e in engineers}
    staffed: dict[str, cp_model.IntVar] = {}
    terms = []
    for c in cases:
        staffed[c.case_id] = model.new_bool_var(f"staffed_{c.case_id}")
        start_h = int((c.start - origin).total_seconds() // 60)
        end_h = max(start_h + 1, int((c.end - origin).total_seconds() // 60))
        members = []
        for e in engineers:
            if not eligible(e, c):
                continue
            v = model.new_bool_var(f"x_{e.engineer_id}_{c.case_id}")
            x[(e.engineer_id, c.case_id)] = v
            members.append(v)
            intervals[e.engineer_id].append(model.new_optional_fixed_size_interval_var(
                start_h, end_h - start_h, v, f"i_{e.engineer_id}_{c.case_id}"))
            terms.append((TRAVEL_WEIGHT * distance(e.home_region, c.region)
                          - SKILL_BONUS * e.skills.get(c.equipment_type, 0), v))
        model.add(sum(members) == c.requirement.head_count * staffed[c.case_id])
        terms.append((-UNSTAFFED_PENALTY, staffed[c.case_id]))
    for ivs in intervals.values():
        if len(ivs) > 1:
            model.add_no_overlap(ivs)  # no double-booking between suggested cases
    days = {c.case_id: _days(c) for c in cases}
    max_load = model.new_int_var(0, sum(days.values()) or 1, "max_load")
    loads: dict[str, list] = {}
    for (eid, cid), v in x.items():
        loads.setdefault(eid, []).append(days[cid] * v)
    for mine in loads.values():
        model.add(sum(mine) <= max_load)
    model.minimize(sum(w * v for w, v in terms) + BALANCE_WEIGHT * max_load)
    if hint is not None:
        for (eid, cid), v in x.items():
            model.add_hint(v, 1 if eid in hint.teams.get(cid, []) else 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 7
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    teams: dict[str, list[str]] = {}
    unstaffed: dict[str, str] = {}
    chosen: dict[str, list[str]] = {}
    for (eid, cid), v in x.items():
        if solver.value(v):
            chosen.setdefault(cid, []).append(eid)
    for c in cases:
        if solver.value(staffed[c.case_id]):
            team = chosen.get(c.case_id, [])
            teams[c.case_id] = with_project_manager(team, by_id)
        else:
            unstaffed[c.case_id] = "no team meets every rule without double-booking"
    return Suggestion("cp-sat", "optimal" if status == cp_model.OPTIMAL else "feasible",
                      objective(engineers, cases, teams), int((time.perf_counter() - started) * 1000), teams,
                      unstaffed)


def suggest(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed], *, time_limit: float,
            workers: int = 2) -> Suggestion:
    """CP-SAT within the time limit, warm-started from greedy; greedy when CP-SAT finds nothing or fails."""
    fallback = greedy(engineers, cases)
    try:
        best = cp_sat(engineers, cases, time_limit=time_limit, workers=workers, hint=fallback)
    except Exception:  # the solver must never cost the dispatcher an answer
        best = None
    if best is None:
        return fallback
    # CP-SAT's objective equals ours; with a warm start it is never worse than greedy
    return best if best.objective <= fallback.objective else fallback


def violations(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed],
               teams: dict[str, list[str]]) -> list[str]:
    """Every hard rule a suggestion breaks (used by the tests on generated data)."""
    by_id = {e.engineer_id: e for e in engineers}
    found: list[str] = []
    windows: dict[str, list[CaseNeed]] = {}
    for c in cases:
        team = teams.get(c.case_id)
        if not team:
            continue
        if len(team) != c.requirement.head_count or len(set(team)) != len(team):
            found.append(f"{c.case_id}: team of {len(team)}, head count {c.requirement.head_count}")
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
