"""Pure rules of the work on site (no I/O): S9, S11, S13, S14, S17 gates and checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from shared.events.dispatch import CheckSheetItem
from shared.messages import msg
from shared.problems import GateRefused, InvalidInput

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

    PPE and helmet always; insulated gloves and insulated tools, each with its own test date still
    valid, for live high-voltage work; barriers and a named safety watcher for primary-equipment tests.
    """
    if answers is None:
        return [msg("S14: no safety checklist for this task today")]
    missing: list[str] = []
    if not answers.get("ppe"):
        missing.append(msg("S14: PPE not confirmed"))
    if not answers.get("helmet"):
        missing.append(msg("S14: helmet not confirmed"))
    if live_hv:
        if not answers.get("insulated_gloves"):
            missing.append(msg("S14: insulated gloves not confirmed (live HV work)"))
        if not answers.get("insulated_tools"):
            missing.append(msg("S14: insulated tools not confirmed (live HV work)"))
        for key, what in (("gloves_test_valid_until", msg("insulated gloves")),
                          ("tools_test_valid_until", msg("insulated tools"))):
            valid_until = answers.get(key)
            if isinstance(valid_until, str):
                valid_until = date.fromisoformat(valid_until)
            if valid_until is None:
                missing.append(msg("S14: test date of the {what} not given (live HV work)", what=what))
            elif valid_until < day:  # type: ignore[operator]
                missing.append(msg("S14: {what}' test expired on {valid_until} (live HV work)",
                    what=what, valid_until=valid_until))
    if primary_test:
        if not answers.get("barriers"):
            missing.append(msg("S14: barriers not confirmed (primary-equipment test)"))
        if not str(answers.get("safety_watcher") or "").strip():
            missing.append(msg("S14: no named safety watcher (primary-equipment test)"))
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
        missing.append(msg("the visit is no longer open for work"))
    if task.status != "planned":
        missing.append(msg("the task is already {status}", status=task.status))
    if not briefing_held:
        missing.append(msg("S9: the technical briefing has not been held"))
    if not any(permit_covers(p, task, now) for p in permits):
        missing.append(msg("S11: no valid work permit covers scope '{permit_scope}' now",
            permit_scope=task.permit_scope))
    missing.extend(safety_missing(safety_answers, live_hv=task.live_hv, primary_test=task.primary_test,
                                  day=now.date()))
    if missing:
        raise GateRefused(msg("task start"), missing)


def evaluate_value(item: CheckSheetItem, value: float | bool | str, unit: str | None) -> bool:
    """S13: check a recorded value against its check-sheet item; returns whether it passed.

    Wrong shapes (a number without its unit, a yes/no item given a number) are refused;
    a value outside the acceptance limits is recorded as failed, not refused.
    """
    if item.kind == "value":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(msg("item {item_id} needs a number", item_id=item.item_id), field="value")
        if item.unit:
            if not unit:
                raise InvalidInput(msg("item {item_id} needs its unit ({unit})",
                    item_id=item.item_id, unit=item.unit), field="unit")
            if unit.strip().lower() != item.unit.strip().lower():
                raise InvalidInput(msg("item {item_id} is measured in {unit}, not {unit2}",
                    item_id=item.item_id, unit=item.unit, unit2=unit), field="unit")
        if item.lower_limit is not None and value < item.lower_limit:
            return False
        return not (item.upper_limit is not None and value > item.upper_limit)
    if item.kind in ("yes_no", "witness"):
        if not isinstance(value, bool):
            raise InvalidInput(msg("item {item_id} needs yes or no (true/false)", item_id=item.item_id), field="value")
        return value
    # photo: the value is a caption; the photo itself is evidence attached to the entry (S19).
    return True


def check_sign_off(*, what: str, requires_witness: bool, has_witness: bool, requires_photo: bool = False,
                   has_evidence: bool = True, already_signed: bool = False, passed: bool = True,
                   disposition: str | None = None) -> None:
    """S13/S17/S19/S25: an entry needing a witness (or a photo) cannot be signed off without one;
    a failed value (outside its limits) only with a disposition (see `disposition_missing`)."""
    missing: list[str] = []
    if already_signed:
        missing.append(msg("{what} is already signed off", what=what))
    if requires_witness and not has_witness:
        missing.append(msg("S17: {what} needs a witness (name, role, signature) before sign-off", what=what))
    if requires_photo and not has_evidence:
        missing.append(msg("S19: {what} needs a photo before sign-off", what=what))
    missing.extend(disposition_missing(what=what, passed=passed, disposition=disposition))
    if missing:
        raise GateRefused(msg("sign-off"), missing)


def check_task_done(*, task: TaskView, items: Sequence[CheckSheetItem], recorded: dict[str, bool]) -> None:
    """S13: a task is done when started and every check-sheet item is recorded and signed off.

    `recorded` maps item id -> signed off.
    """
    missing: list[str] = []
    if task.status != "started":
        missing.append(msg("the task is {status}, not started", status=task.status))
    for item in items:
        if item.item_id not in recorded:
            missing.append(msg("S13: item {item_id} ({text}) not recorded", item_id=item.item_id, text=item.text))
        elif not recorded[item.item_id]:
            missing.append(msg("S13: item {item_id} ({text}) not signed off", item_id=item.item_id, text=item.text))
    if missing:
        raise GateRefused(msg("task completion"), missing)


# ---------------------------------------------------------------- S13/S25 failed values

REMEASURED, ISSUE, CONCESSION = "remeasured", "issue", "concession"
ACCEPTED_FOR_FAILED = (ISSUE, CONCESSION)


def disposition_missing(*, what: str, passed: bool, disposition: str | None) -> list[str]:
    """S13/S25/S26: a failed value (outside its limits) needs a disposition before sign-off.

    Either re-measured within limits (then the current value passes; the failed reading stays in
    the history), linked to a logged S25 quality issue, or a concession signed by the customer's witness.
    """
    if passed or disposition in ACCEPTED_FOR_FAILED:
        return []
    return [msg("S25: {what} failed (outside its limits) and has no disposition: re-measure within limits, "
                "link the logged S25 quality issue, or record a concession signed by the customer's witness",
                what=what)]


def disposition_after_reading(*, passed: bool, failed_before: bool) -> str | None:
    """S13: a new reading replaces the current value (never the history): a passing one after a failed
    one is the `remeasured` disposition; a failed one needs a new disposition."""
    return REMEASURED if passed and failed_before else None


def check_disposition(*, what: str, kind: str, passed: bool, signed_off: bool,
                      issue_id: str | None = None, issue_logged: bool = False) -> None:
    """S25: record a disposition of a failed entry (a linked issue, or the customer's concession).

    Refused unless the entry is failed and not signed off, and a linked issue is logged on this visit.
    """
    missing: list[str] = []
    if signed_off:
        missing.append(msg("{what} is already signed off", what=what))
    if passed:
        missing.append(msg("{what} passed: no disposition is needed", what=what))
    if kind == ISSUE and not issue_logged:
        missing.append(msg("S25: quality issue {issue_id} is not logged on this visit", issue_id=issue_id))
    if missing:
        raise GateRefused(msg("disposition"), missing)


# ---------------------------------------------------------------- S14 on every day of a task

def check_day_safety(*, task: TaskView, started_on: date, day: date, safety_answers: dict[str, object] | None,
                     gate: str) -> None:
    """S14: a started task continuing on a later site day needs that day's complete safety checklist.

    The start gate judged the start day's checklist; each later day (the site's calendar day) of the
    task needs its own before values are recorded or signed off. Raises `GateRefused(gate, ...)`.
    """
    if task.status != "started" or day <= started_on:
        return
    missing = ([msg("S14: no safety checklist for {day}", day=day)] if safety_answers is None
               else safety_missing(safety_answers, live_hv=task.live_hv, primary_test=task.primary_test, day=day))
    if missing:
        raise GateRefused(gate, missing)
