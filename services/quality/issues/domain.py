"""Pure rules of a quality issue (S25): the two paths and the closed loop as a state machine.

Stages run in order: containment -> root cause -> corrective action -> preventive action ->
verification -> closure. A stage is refused while an earlier one is missing (naming every
missing one); redoing a stage drops the records of the later stages (they stay in the journal),
so e.g. a new root cause after an ineffective verification needs new actions and a new check.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from shared.messages import msg
from shared.problems import GateRefused


class IssueStatus(StrEnum):
    LOGGED = "logged"
    RESOLVED_ON_SITE = "resolved_on_site"
    ESCALATED = "escalated"
    CONTAINED = "contained"
    ROOT_CAUSE_IDENTIFIED = "root_cause_identified"
    CORRECTIVE_ACTION_DEFINED = "corrective_action_defined"
    PREVENTIVE_ACTION_DEFINED = "preventive_action_defined"
    VERIFIED = "verified"
    CLOSED = "closed"
    REOPENED = "reopened"


class Stage(StrEnum):
    CONTAINMENT = "containment"
    ROOT_CAUSE = "root_cause"
    CORRECTIVE_ACTION = "corrective_action"
    PREVENTIVE_ACTION = "preventive_action"
    VERIFICATION = "verification"


LOOP_ORDER: tuple[Stage, ...] = tuple(Stage)

STATUS_AFTER: dict[Stage, IssueStatus] = {
    Stage.CONTAINMENT: IssueStatus.CONTAINED,
    Stage.ROOT_CAUSE: IssueStatus.ROOT_CAUSE_IDENTIFIED,
    Stage.CORRECTIVE_ACTION: IssueStatus.CORRECTIVE_ACTION_DEFINED,
    Stage.PREVENTIVE_ACTION: IssueStatus.PREVENTIVE_ACTION_DEFINED,
    Stage.VERIFICATION: IssueStatus.VERIFIED,
}

MISSING: dict[Stage, str] = {
    Stage.CONTAINMENT: msg("containment"),
    Stage.ROOT_CAUSE: msg("root cause"),
    Stage.CORRECTIVE_ACTION: msg("corrective action"),
    Stage.PREVENTIVE_ACTION: msg("preventive action"),
    Stage.VERIFICATION: msg("verification of effectiveness"),
}

IN_LOOP = frozenset({IssueStatus.ESCALATED, IssueStatus.REOPENED, *STATUS_AFTER.values()})
OPEN = frozenset({IssueStatus.LOGGED, *IN_LOOP})
CLOSED_STATES = frozenset({IssueStatus.CLOSED, IssueStatus.RESOLVED_ON_SITE})


def _not_in_loop(status: str) -> str:
    if status == IssueStatus.LOGGED:
        return msg("escalation: the closed loop applies only to escalated issues")
    return msg("an open escalated issue (it is {status})", status=status)


def stage_gate(status: str, loop: Mapping[str, Any], stage: Stage) -> None:
    """S25 closed loop: a stage may be recorded once every earlier stage is recorded."""
    missing = [] if status in IN_LOOP else [_not_in_loop(status)]
    for earlier in LOOP_ORDER[:LOOP_ORDER.index(stage)]:
        if earlier not in loop:
            missing.append(MISSING[earlier])
    if missing:
        raise GateRefused(msg("record {stage}", stage=MISSING[stage]), missing)


def record_stage(loop: Mapping[str, Any], stage: Stage, record: dict[str, Any]) -> dict[str, Any]:
    """The loop after recording `stage`: the later stages are dropped (they must be redone)."""
    keep = LOOP_ORDER[:LOOP_ORDER.index(stage)]
    return {**{s.value: loop[s.value] for s in keep if s.value in loop}, stage.value: record}


def closure_gate(status: str, loop: Mapping[str, Any]) -> None:
    """S25: closing needs containment, root cause, corrective and preventive action and a POSITIVE verification."""
    missing = [] if status in IN_LOOP else [_not_in_loop(status)]
    for stage in LOOP_ORDER[:-1]:
        if stage not in loop:
            missing.append(MISSING[stage])
    verification = loop.get(Stage.VERIFICATION)
    if verification is None:
        missing.append(msg("a positive verification of effectiveness"))
    elif not verification.get("effective"):
        missing.append(msg("a positive verification of effectiveness (the last verification found the actions "
                       "not effective)"))
    if missing:
        raise GateRefused(msg("close issue"), missing)


def escalation_gate(status: str) -> None:
    """S25: only a logged issue (not fixed on site, not yet escalated) is sent to the company."""
    if status != IssueStatus.LOGGED:
        raise GateRefused(msg("escalate issue"),
                          [msg("a logged issue not yet escalated or resolved (it is {status})", status=status)])


def on_site_resolution_gate(status: str) -> None:
    """S25: only a logged issue can be fixed on site; an escalated one follows the closed loop."""
    if status != IssueStatus.LOGGED:
        raise GateRefused(msg("resolve issue on site"),
                          [msg("a logged issue not yet escalated or resolved (it is {status})", status=status)])


def reopen_gate(status: str) -> IssueStatus:
    """A closed issue may be reopened with a reason; the status it goes back to.

    A closed-loop issue restarts the loop (`reopened`, stages to be recorded again); an issue
    fixed on site goes back to `logged`, to be fixed again or escalated.
    """
    if status not in CLOSED_STATES:
        raise GateRefused(msg("reopen issue"), [msg("a closed issue (it is {status})", status=status)])
    return IssueStatus.REOPENED if status == IssueStatus.CLOSED else IssueStatus.LOGGED


def may_move(*, subject: str, unit: str | None, is_admin: bool, owner: str | None,
             responsible_unit: str | None) -> bool:
    """Quality owners move only issues assigned to them or to their unit (token claim `unit`)."""
    if is_admin:
        return True
    return (owner is not None and subject == owner) or (unit is not None and unit == responsible_unit)


def failed_value_description(*, task: str | None, item_id: str, item_text: str | None, value: object,
                             unit: str | None, lower: float | None, upper: float | None) -> str:
    """S13/S25: the issue text of a value measured on site outside its acceptance limits."""
    limits = " and ".join(part for part in (f"at least {lower:g}" if lower is not None else "",
                                            f"at most {upper:g}" if upper is not None else "") if part)
    item = f"{item_id} ({item_text})" if item_text else item_id
    where = f" of task '{task}'" if task else ""
    if isinstance(value, bool):
        return f"Check-sheet item {item}{where} answered {'yes' if value else 'no'} on site, which fails it."
    measured = f"{value} {unit}".strip() if unit else f"{value}"
    return (f"Check-sheet item {item}{where} measured {measured}, outside its acceptance limits"
            + (f" ({limits})" if limits else "") + ".")
