"""Pure rules of the service case (no I/O): state transitions and the dispatch gate."""

from __future__ import annotations

from collections.abc import Sequence

from services.dispatch.cases.models import CaseStatus, TeamMemberIn
from shared.api.problems import Conflict, GateRefused

# Which status may follow which (events from onsite move a case on site and to completion).
TRANSITIONS: dict[CaseStatus, set[CaseStatus]] = {
    CaseStatus.RECEIVED: {CaseStatus.ACKNOWLEDGED},
    CaseStatus.ACKNOWLEDGED: {CaseStatus.DISPATCHED},
    CaseStatus.DISPATCHED: {CaseStatus.ON_SITE, CaseStatus.COMPLETED},
    CaseStatus.ON_SITE: {CaseStatus.COMPLETED},
    CaseStatus.COMPLETED: {CaseStatus.CLOSED},
    CaseStatus.CLOSED: set(),
}


def can_move(current: CaseStatus, target: CaseStatus) -> bool:
    return target in TRANSITIONS[current]


def require_transition(current: CaseStatus, target: CaseStatus) -> None:
    if not can_move(current, target):
        raise Conflict(f"a case that is {current.value} cannot become {target.value}",
                       current_status=current.value)


def team_problems(team: Sequence[TeamMemberIn]) -> list[str]:
    """S3: with two or more engineers exactly one is project manager; nobody twice."""
    missing: list[str] = []
    ids = [m.engineer_id for m in team]
    if len(ids) != len(set(ids)):
        missing.append("S3: an engineer is listed twice in the team")
    managers = sum(1 for m in team if m.is_project_manager)
    if len(team) >= 2 and managers != 1:
        missing.append(f"S3: a team of {len(team)} needs exactly one project manager (has {managers})")
    return missing


def check_dispatch_gate(status: CaseStatus, team: Sequence[TeamMemberIn], planned_start, planned_end) -> None:
    """S6 dispatch gate (foundation subset): acknowledged (S1), staffed (S3), sane dates."""
    missing: list[str] = []
    if status != CaseStatus.ACKNOWLEDGED:
        missing.append(f"S1: the case must be acknowledged first (it is {status.value})")
    missing.extend(team_problems(team))
    if planned_end <= planned_start:
        missing.append("planned_end must be after planned_start")
    if missing:
        raise GateRefused("dispatch", missing)
