"""Pure rules of the work on site (no I/O): S9, S11, S13, S14, S17 gates and checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from shared.api.problems import GateRefused, InvalidInput
from shared.events.dispatch import CheckSheetItem

ALL_SCOPE = "all"


@dataclass(frozen=True)
class PermitView:
    number: str
    scope: Sequence[str]
    valid_from: datetime
    valid_to: datetime


@dataclass(frozen=True)
class TaskView:
    title: str
    permit_scope: str
    live_hv: bool
    primary_test: bool
    status: str


def permit_covers(permit: PermitView, task: TaskView, now: datetime) -> bool:
    """S11: valid now, and its scope names the task's scope (or `all`)."""
    in_scope = task.permit_scope in permit.scope or ALL_SCOPE in permit.scope
    return in_scope and permit.valid_from <= now <= permit.valid_to


def safety_missing(
    answers: dict[str, object] | None, *, live_hv: bool, primary_test: bool, day: date
) -> list[str]:
    """S14: what the checklist of one task and day still lacks.

    PPE and helmet always; insulated gloves and tools with a test date still valid for live
    high-voltage work; barriers and a named safety watcher for primary-equipment tests.
    """
    if answers is None:
        return ["S14: no safety checklist for this task today"]
    missing: list[str] = []
    if not answers.get("ppe"):
        missing.append("S14: PPE not confirmed")
    if not answers.get("helmet"):
        missing.append("S14: helmet not confirmed")
    if live_hv:
        if not answers.get("insulated_gloves"):
            missing.append("S14: insulated gloves not confirmed (live HV work)")
        if not answers.get("insulated_tools"):
            missing.append("S14: insulated tools not confirmed (live HV work)")
        valid_until = answers.get("tools_test_valid_until")
        if isinstance(valid_until, str):
            valid_until = date.fromisoformat(valid_until)
        if valid_until is None:
            missing.append("S14: test date of the insulated tools not given (live HV work)")
        elif valid_until < day:  # type: ignore[operator]
            missing.append(f"S14: insulated tools' test expired on {valid_until} (live HV work)")
    if primary_test:
        if not answers.get("barriers"):
            missing.append("S14: barriers not confirmed (primary-equipment test)")
        if not str(answers.get("safety_watcher") or "").strip():
            missing.append("S14: no named safety watcher (primary-equipment test)")
    return missing


def check_task_start(
    *,
    task: TaskView,
    briefing_held: bool,
    permits: Sequence[PermitView],
    safety_answers: dict[str, object] | None,
    now: datetime,
    visit_open: bool = True,
) -> None:
    """Gate for starting a task: S9 briefing held, S11 valid permit covering it, S14 checklist.

    Raises `GateRefused("task start", ...)` listing every missing condition.
    """
    missing: list[str] = []
    if not visit_open:
        missing.append("the visit is no longer open for work")
    if task.status != "planned":
        missing.append(f"the task is already {task.status}")
    if not briefing_held:
        missing.append("S9: the technical briefing has not been held")
    if not any(permit_covers(p, task, now) for p in permits):
        missing.append(f"S11: no valid work permit covers scope '{task.permit_scope}' now")
    missing.extend(safety_missing(safety_answers, live_hv=task.live_hv, primary_test=task.primary_test,
                                  day=now.date()))
    if missing:
        raise GateRefused("task start", missing)


def evaluate_value(item: CheckSheetItem, value: float | bool | str, unit: str | None) -> bool:
    """S13: check a recorded value against its check-sheet item; returns whether it passed.

    Wrong shapes (a number without its unit, a yes/no item given a number) are refused;
    a value outside the acceptance limits is recorded as failed, not refused.
    """
    if item.kind == "value":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"item {item.item_id} needs a number", field="value")
        if item.unit:
            if not unit:
                raise InvalidInput(f"item {item.item_id} needs its unit ({item.unit})", field="unit")
            if unit.strip().lower() != item.unit.strip().lower():
                raise InvalidInput(f"item {item.item_id} is measured in {item.unit}, not {unit}", field="unit")
        if item.lower_limit is not None and value < item.lower_limit:
            return False
        return not (item.upper_limit is not None and value > item.upper_limit)
    if item.kind in ("yes_no", "witness"):
        if not isinstance(value, bool):
            raise InvalidInput(f"item {item.item_id} needs yes or no (true/false)", field="value")
        return value
    # photo: the value is a caption; the photo itself is evidence attached to the entry (S19).
    return True


def check_sign_off(*, what: str, requires_witness: bool, has_witness: bool, requires_photo: bool = False,
                   has_evidence: bool = True, already_signed: bool = False) -> None:
    """S17/S19: an entry needing a witness (or a photo) cannot be signed off without one."""
    missing: list[str] = []
    if already_signed:
        missing.append(f"{what} is already signed off")
    if requires_witness and not has_witness:
        missing.append(f"S17: {what} needs a witness (name, role, signature) before sign-off")
    if requires_photo and not has_evidence:
        missing.append(f"S19: {what} needs a photo before sign-off")
    if missing:
        raise GateRefused("sign-off", missing)


def check_task_done(*, task: TaskView, items: Sequence[CheckSheetItem], recorded: dict[str, bool]) -> None:
    """S13: a task is done when started and every check-sheet item is recorded and signed off.

    `recorded` maps item id -> signed off.
    """
    missing: list[str] = []
    if task.status != "started":
        missing.append(f"the task is {task.status}, not started")
    for item in items:
        if item.item_id not in recorded:
            missing.append(f"S13: item {item.item_id} ({item.text}) not recorded")
        elif not recorded[item.item_id]:
            missing.append(f"S13: item {item.item_id} ({item.text}) not signed off")
    if missing:
        raise GateRefused("task completion", missing)
