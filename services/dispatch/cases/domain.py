"""Pure rules of the service case (no I/O): state transitions and the S6 dispatch gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from shared.messages import msg
from shared.problems import GateRefused


class CaseStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CLOSED = "closed"


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


STEP_OF_STATUS = {CaseStatus.ACKNOWLEDGED: "S1", CaseStatus.DISPATCHED: "S6", CaseStatus.ON_SITE: "S8",
                  CaseStatus.COMPLETED: "S30", CaseStatus.CLOSED: "S34"}


def require_transition(current: CaseStatus, target: CaseStatus) -> None:
    """S1-S34: a case moves only along the standard's order (the step of the target status names the refusal)."""
    if not can_move(current, target):
        step = STEP_OF_STATUS.get(target, "S1")
        raise GateRefused(msg("case status"), [msg("{step}: a case that is {current} cannot become {target}",
            step=step, current=current, target=target)],
                          current_status=current.value)


@dataclass(frozen=True)
class DispatchReadiness:
    """What the S6 gate looks at, gathered from the case's recorded steps."""

    status: CaseStatus
    conditions_confirmed: bool
    team_size: int
    project_managers: int
    plan_status: str | None  # of the newest plan revision, None when there is none
    plan_approved: bool
    pack_attached: bool
    preparation_missing: list[str] = field(default_factory=list)
    live_work_missing: list[str] = field(default_factory=list)


def dispatch_problems(r: DispatchReadiness) -> list[str]:
    """S6 gate: S1 acknowledged, S2 confirmed, S3 staffed, S4 approved, S5 attached, S6 complete."""
    missing: list[str] = []
    if r.status != CaseStatus.ACKNOWLEDGED:
        missing.append(msg("S1: the case must be acknowledged and not yet dispatched (it is {status})",
            status=r.status.value))
    if not r.conditions_confirmed:
        missing.append(msg("S2: the service conditions are not confirmed with the customer"))
    if r.team_size == 0:
        missing.append(msg("S3: no engineers are assigned"))
    elif r.team_size >= 2 and r.project_managers != 1:
        missing.append(msg("S3: a team of {team_size} needs exactly one project manager", team_size=r.team_size))
    if not r.plan_approved:
        state = "there is no service plan" if r.plan_status is None else f"the newest plan is {r.plan_status}"
        missing.append(msg("S4: the service plan is not approved ({state})", state=state))
    if not r.pack_attached:
        missing.append(msg("S5: no specification pack is attached"))
    missing.extend(r.live_work_missing)
    if r.preparation_missing:
        missing.append(msg("S6: preparation items not ticked: {preparation_missing}",
            preparation_missing=', '.join(r.preparation_missing)))
    return missing


def check_dispatch_gate(readiness: DispatchReadiness) -> None:
    """S6: refuse dispatch naming every missing condition."""
    missing = dispatch_problems(readiness)
    if missing:
        raise GateRefused(msg("dispatch"), missing)
