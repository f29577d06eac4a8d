"""Replanning in real time (pure, no I/O): repair a staffed plan when an engineer falls ill or is pulled
off, fit an urgent case with the fewest moves (both under the S3 hard rules, S7 where an arrival moves),
and recommend arrival windows at S2.

A repair pins the whole plan and frees only a neighbourhood: the cases to (re)staff (the targets) and
the cases overlapping a target's window that employ someone who could serve the target (swap sources).
A swap source keeps its size and may only take engineers free in its window (a swap is one level deep:
move Y from case B to the target, fill B from the free engineers), and at most `max_swaps` of them change.
A target may instead keep its team and move its arrival (S7) to a shifted window where the whole team
is free. CP-SAT minimises, lexicographically: targets left unrepaired, changed assignments (a new member
is one; a moved arrival moves every booking of the case, plus one for the customer's new arrival), then
the suggestion objective's cost (travel, skill) of the freed cases.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.dispatch.staffing.domain import overlaps
from services.dispatch.suggestions.domain import (
    CaseNeed,
    EngineerProfile,
    eligible,
    may_lead,
    needs_lead,
    option_cost,
    with_project_manager,
)

FILL_CANDIDATES = 8  # a swap source is filled from its 8 nearest free engineers (bounds the model)
# a slot's cost is the suggestion objective's option cost: travel x10 (distance <= 4) plus skill levels
# short of the top (at most 4: an eligible engineer has level 1 or more), so within [0, 44]
SLOT_COST_SPAN = 45


@dataclass(frozen=True)
class Change:
    """One case of a repair: a new team in its window (S3), or its team at a new arrival (S7)."""

    case_id: str
    kind: str  # "team" or "arrival"
    before: tuple[str, ...]
    after: tuple[str, ...]  # project manager first
    start: datetime
    end: datetime
    previous_start: datetime
    changed_assignments: int
    cost_change: int  # travel and skill after minus before (the suggestion objective's units)


@dataclass
class Repair:
    status: str  # "optimal", "feasible" or "none" (nothing to repair, or no answer in time)
    changes: list[Change]
    unrepaired: dict[str, str]  # target case id -> why
    changed_assignments: int
    cost_change: int
    wall_time_ms: int
    neighbourhood: dict[str, int] = field(default_factory=dict)  # freed cases, swap sources, variables


def team_cost(team: Sequence[str], c: CaseNeed, by_id: Mapping[str, EngineerProfile]) -> int:
    """S3 preference: the suggestion objective's travel and skill terms of a team (its balance term aside)."""
    return sum(option_cost(by_id[e], c) for e in team if e in by_id)


def can_keep(team: Sequence[str], c: CaseNeed, by_id: Mapping[str, EngineerProfile]) -> bool:
    """S3: the team still meets every rule in the case's window (each member eligible, a qualified lead)."""
    return (all(m in by_id and eligible(by_id[m], c) for m in team)
            and (not needs_lead(c) or any(may_lead(by_id[m], c) for m in team)))


def _at(c: CaseNeed, shift: timedelta) -> CaseNeed:
    return replace(c, start=c.start + shift, end=c.end + shift)


def affected_cases(engineer_id: str, busy_from: datetime, cases: Sequence[CaseNeed],
                   teams: Mapping[str, Sequence[str]], unavailable: Sequence[tuple[datetime, datetime]],
                   *, pulled_off: bool = False) -> list[str]:
    """S3 after a calendar change: the engineer's cases whose window overlaps their unavailability from
    `busy_from` on (every case still ahead when they are pulled off the roster), earliest first."""
    mine = [c for c in cases if engineer_id in teams.get(c.case_id, ()) and c.end > busy_from]
    hit = [c for c in mine if pulled_off or any(
        overlaps(c.start, c.end, max(s, busy_from), e) for s, e in unavailable if e > busy_from)]
    return [c.case_id for c in sorted(hit, key=lambda c: (c.start, c.case_id))]


def repair(engineers: Sequence[EngineerProfile], cases: Sequence[CaseNeed], teams: Mapping[str, Sequence[str]],
           targets: Sequence[str], *, frozen: Collection[str] = (),
           shifts: Mapping[str, Sequence[timedelta]] | None = None, max_swaps: int = 2,
           time_limit: float = 3.0, workers: int = 2, targets_first: bool = True) -> Repair:
    """S3 repair of a plan (S7 for moved arrivals): staff every target with the fewest changed assignments.

    `engineers` carry their calendar only (leave, the new one included); the plan is `teams` over `cases`
    (a case's requirement head count is the team size to keep). `frozen` cases never change (dispatched,
    on site); `shifts` offers, per target, arrival moves that keep its team. `targets_first`: try the
    targets alone first (False: the whole neighbourhood at once, as the benchmark times the worst case)."""
    started = time.perf_counter()
    by_case = {c.case_id: c for c in cases}
    by_id = {e.engineer_id: e for e in engineers}
    target_set = [t for t in dict.fromkeys(targets) if t in by_case]
    booked: dict[str, list[str]] = {}
    for cid, team in teams.items():
        if cid in by_case:
            for eid in team:
                booked.setdefault(eid, []).append(cid)
    # No repair changes fewer assignments than the targets' missing members; a swap or a moved arrival
    # always changes more. So when the targets alone (everything else pinned) reach that bound, the
    # answer is optimal for the whole neighbourhood too, and the larger model is not built.
    floor = sum(by_case[t].requirement.head_count - sum(1 for m in teams.get(t, ()) if m in by_id and eligible(
        by_id[m], by_case[t])) for t in target_set)
    hint: Repair | None = None
    if targets_first:
        quick = _solve(by_id, by_case, booked, teams, target_set, [], {}, max_swaps, time_limit, workers, started)
        if quick.status == "optimal" and not quick.unrepaired and quick.changed_assignments <= floor:
            return quick
        hint = quick
    # swap sources: unfrozen cases overlapping a target that employ someone eligible for it
    sources: list[str] = []
    for t in target_set:
        tc = by_case[t]
        for c in cases:
            if (c.case_id in target_set or c.case_id in frozen or c.case_id in sources
                    or not overlaps(c.start, c.end, tc.start, tc.end)):
                continue
            team = teams.get(c.case_id, ())
            # a source must be able to keep its team (a member off the roster or on leave makes it a target)
            if any(eid in by_id and eligible(by_id[eid], tc) for eid in team) and can_keep(team, c, by_id):
                sources.append(c.case_id)
    remaining = max(0.5, time_limit - (time.perf_counter() - started))  # the time limit covers both phases
    return _solve(by_id, by_case, booked, teams, target_set, sources, shifts or {}, max_swaps, remaining, workers,
                  started, hint)


def _solve(by_id: dict[str, EngineerProfile], by_case: Mapping[str, CaseNeed], booked: Mapping[str, list[str]],
           teams: Mapping[str, Sequence[str]], target_set: list[str], sources: list[str],
           shifts: Mapping[str, Sequence[timedelta]], max_swaps: int, time_limit: float, workers: int,
           started: float, hint: Repair | None = None) -> Repair:
    """The CP-SAT model of `repair` over the targets and the given swap sources (everything else pinned)."""
    from ortools.sat.python import cp_model

    engineers = list(by_id.values())
    freed = set(target_set) | set(sources)

    def pinned_clash(eid: str, start: datetime, end: datetime) -> bool:
        return any(cid not in freed and overlaps(start, end, by_case[cid].start, by_case[cid].end)
                   for cid in booked.get(eid, ()))

    def any_clash(eid: str, start: datetime, end: datetime, but: str) -> bool:
        return any(cid != but and overlaps(start, end, by_case[cid].start, by_case[cid].end)
                   for cid in booked.get(eid, ()))

    model = cp_model.CpModel()
    # warm start: the targets-alone answer where it had one, the current teams elsewhere
    hinted = {ch.case_id: list(ch.after) for ch in hint.changes if ch.kind == "team"} if hint else {}
    origin = min((by_case[c].start for c in freed), default=None)
    intervals: dict[str, list[cp_model.IntervalVar]] = {}

    def minutes(at: datetime) -> int:
        assert origin is not None
        return int((at - origin).total_seconds() // 60)

    def interval(eid: str, start: datetime, end: datetime, present: cp_model.IntVar, name: str) -> None:
        s = minutes(start)
        intervals.setdefault(eid, []).append(
            model.new_optional_fixed_size_interval_var(s, max(1, minutes(end) - s), present, name))

    x: dict[tuple[str, str], cp_model.IntVar] = {}
    changes: list[tuple[int, cp_model.IntVar]] = []
    costs: list[tuple[int, cp_model.IntVar]] = []
    left: dict[str, cp_model.IntVar] = {}
    stay: dict[str, cp_model.IntVar] = {}
    moved: dict[tuple[str, timedelta], cp_model.IntVar] = {}
    swapped: list[cp_model.IntVar] = []
    slots = 0
    for cid in [*target_set, *sources]:
        c, team = by_case[cid], list(teams.get(cid, ()))
        size = c.requirement.head_count
        slots += size
        if cid in target_set:
            candidates = [e for e in engineers if eligible(e, c) and not pinned_clash(e.engineer_id, c.start, c.end)]
        else:  # a swap source keeps its members or takes one of its nearest engineers free in its whole window
            free = sorted((e for e in engineers if e.engineer_id not in team and eligible(e, c)
                           and not any_clash(e.engineer_id, c.start, c.end, but=cid)),
                          key=lambda e: (option_cost(e, c), e.engineer_id))
            candidates = [by_id[m] for m in team if m in by_id] + free[:FILL_CANDIDATES]
        members = []
        for e in candidates:
            v = model.new_bool_var(f"x_{e.engineer_id}_{cid}")
            x[(e.engineer_id, cid)] = v
            members.append(v)
            interval(e.engineer_id, c.start, c.end, v, f"i_{e.engineer_id}_{cid}")
            costs.append((option_cost(e, c), v))
            if e.engineer_id not in team:
                changes.append((1, v))
            model.add_hint(v, 1 if e.engineer_id in hinted.get(cid, team) else 0)
        leads = [x[(e.engineer_id, cid)] for e in candidates if may_lead(e, c)]
        if cid in sources:
            model.add(sum(members) == size)
            if needs_lead(c):  # S3: one member qualified to lead the case
                model.add(sum(leads) >= 1)
            changed = model.new_bool_var(f"swapped_{cid}")
            for e in candidates:
                if e.engineer_id not in team:
                    model.add_implication(x[(e.engineer_id, cid)], changed)
            swapped.append(changed)
            continue
        stay[cid] = model.new_bool_var(f"stay_{cid}")
        model.add(sum(members) == size * stay[cid])
        if needs_lead(c):
            model.add(sum(leads) >= 1).only_enforce_if(stay[cid])
        left[cid] = model.new_bool_var(f"unrepaired_{cid}")
        options = [stay[cid], left[cid]]
        for shift in shifts.get(cid, ()):
            at = _at(c, shift)
            if not team or not can_keep(team, at, by_id) or any(any_clash(m, at.start, at.end, but=cid)
                                                                 for m in team):
                continue
            v = model.new_bool_var(f"moved_{cid}_{int(shift.total_seconds())}")
            moved[(cid, shift)] = v
            options.append(v)
            for m in team:
                interval(m, at.start, at.end, v, f"m_{m}_{cid}_{int(shift.total_seconds())}")
            changes.append((len(team) + 1, v))  # every booking moves, and the customer's arrival
            costs.append((team_cost(team, c, by_id) + shift.days, v))  # the earliest arrival of equal ones
        model.add_exactly_one(options)
    for ivs in intervals.values():
        if len(ivs) > 1:
            model.add_no_overlap(ivs)
    if swapped:
        model.add(sum(swapped) <= max_swaps)
    # lexicographic by weights: any cost difference is worth less than one changed assignment, and any
    # number of changed assignments less than one target left unrepaired
    change_weight = SLOT_COST_SPAN * max(1, slots) + max((s.days for m in shifts.values() for s in m), default=0) + 1
    most_changes = sum(by_case[c].requirement.head_count + 1 for c in freed)
    unrepaired_weight = change_weight * (most_changes + 1)
    model.minimize(unrepaired_weight * sum(left.values()) + change_weight * sum(w * v for w, v in changes)
                   + sum(w * v for w, v in costs))
    neighbourhood = {"targets": len(target_set), "swap_sources": len(sources), "variables": len(x) + len(moved)}
    if not target_set:
        return Repair("none", [], {}, 0, 0, int((time.perf_counter() - started) * 1000), neighbourhood)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 7
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Repair("none", [], dict.fromkeys(target_set, "no answer within the time limit"), 0, 0,
                      int((time.perf_counter() - started) * 1000), neighbourhood)
    result: list[Change] = []
    unrepaired: dict[str, str] = {}
    for cid in [*sources, *target_set]:
        c, before = by_case[cid], tuple(teams.get(cid, ()))
        if cid in left and solver.value(left[cid]):
            unrepaired[cid] = (f"no team of {c.requirement.head_count} meets every rule in the window, with at most "
                               f"{max_swaps} other cases changed" + (", nor at a moved arrival" if
                                                                     shifts.get(cid) else ""))
            continue
        moved_by = next((s for (k, s), v in moved.items() if k == cid and solver.value(v)), None)
        if moved_by is not None:
            at = _at(c, moved_by)
            result.append(Change(cid, "arrival", before, tuple(with_project_manager(list(before), by_id, at)),
                                 at.start, at.end, c.start, len(before) + 1, 0))
            continue
        after = [eid for (eid, k), v in x.items() if k == cid and solver.value(v)]
        if set(after) == set(before):
            continue
        new = with_project_manager(after, by_id, c)
        result.append(Change(cid, "team", before, tuple(new), c.start, c.end, c.start,
                             len(set(new) - set(before)), team_cost(new, c, by_id) - team_cost(before, c, by_id)))
    return Repair("optimal" if status == cp_model.OPTIMAL else "feasible", result, unrepaired,
                  sum(ch.changed_assignments for ch in result), sum(ch.cost_change for ch in result),
                  int((time.perf_counter() - started) * 1000), neighbourhood)


def applied(teams: Mapping[str, Sequence[str]], cases: Sequence[CaseNeed],
            fix: Repair) -> tuple[dict[str, list[str]], list[CaseNeed]]:
    """The plan after the repair: its teams and its cases (moved arrivals moved)."""
    after = {cid: list(team) for cid, team in teams.items()}
    moved = {ch.case_id: ch for ch in fix.changes}
    for ch in fix.changes:
        after[ch.case_id] = list(ch.after)
    for cid in fix.unrepaired:
        after.pop(cid, None)
    return after, [replace(c, start=moved[c.case_id].start, end=moved[c.case_id].end)
                   if c.case_id in moved else c for c in cases]


def application_order(changes: Sequence[Change]) -> list[Change]:
    """S3 at apply time checks each case against the others' bookings: a case that releases an engineer
    is applied before the case that takes them (a swap source before its target)."""
    releases = {eid: ch.case_id for ch in changes for eid in set(ch.before) - set(ch.after)}
    order: list[Change] = []
    done: set[str] = set()
    pending = list(changes)
    while pending:
        ready = [ch for ch in pending if all(releases.get(eid, ch.case_id) in done | {ch.case_id}
                                             for eid in set(ch.after) - set(ch.before))]
        step = ready or pending[:1]  # a cycle (never produced by `repair`) is left to the gate to refuse
        for ch in step:
            order.append(ch)
            done.add(ch.case_id)
            pending.remove(ch)
    return order


@dataclass(frozen=True)
class Window:
    """A candidate arrival window at S2 with the team that is free in it."""

    start: datetime
    end: datetime
    team: tuple[str, ...]  # the cheapest qualified team, project manager first
    cost: int
    qualified_free: int  # how many qualified engineers are free in it


def _cheapest_team(free: Sequence[EngineerProfile], c: CaseNeed) -> list[str] | None:
    """S3: the cheapest `head_count` of the free engineers (cheapest first) with a qualified lead when the
    team needs one: the cheapest few, or their dearest member traded for the cheapest lead left."""
    size = c.requirement.head_count
    if len(free) < size:
        return None
    team = list(free[:size])
    if needs_lead(c) and not any(may_lead(e, c) for e in team):
        lead = next((e for e in free[size:] if may_lead(e, c)), None)
        if lead is None:
            return None
        team = [*team[:-1], lead]
    return [e.engineer_id for e in team]


def arrival_windows(engineers: Sequence[EngineerProfile], need: CaseNeed, *, first: datetime, days: int,
                    step: timedelta = timedelta(days=1), limit: int = 5) -> list[Window]:
    """S2 window recommendation: windows of the case's length starting at `first` and every `step` for
    `days` days in which a team meeting every S3 rule is free (`engineers` carry their calendar and their
    bookings), earliest first, the cheaper first on the same start."""
    length = need.end - need.start
    found: list[Window] = []
    by_id = {e.engineer_id: e for e in engineers}
    at = first
    while at < first + timedelta(days=days) and len(found) < limit:
        window = replace(need, start=at, end=at + length)
        free = sorted((e for e in engineers if eligible(e, window)),
                      key=lambda e: (option_cost(e, window), e.engineer_id))
        team = _cheapest_team(free, window)
        if team is not None:
            ordered = with_project_manager(team, by_id, window)
            found.append(Window(window.start, window.end, tuple(ordered), team_cost(ordered, window, by_id),
                                len(free)))
        at += step
    return sorted(found, key=lambda w: (w.start, w.cost))
