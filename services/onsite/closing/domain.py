"""Pure rules of closing a visit (no I/O): S26 checks, the S30 completion gate, the S33 departure gate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.onsite.work.domain import ACCEPTED_FOR_FAILED
from shared.messages import msg
from shared.problems import Forbidden, GateRefused

OPEN_ISSUE_STATUSES = ("logged", "reopened")


@dataclass(frozen=True)
class IssueView:
    issue_id: str
    status: str
    escalated: bool


def issue_blocks_completion(issue: IssueView) -> bool:
    """S30: an on-site quality issue still open and not escalated blocks completion."""
    return issue.status in OPEN_ISSUE_STATUSES and not issue.escalated


def s26_missing(
    *, team: Sequence[str], checks: Iterable[tuple[str, str]], unrecorded_items: Sequence[str]
) -> list[str]:
    """S26: every item recorded; every engineer self-checked; with several, each cross-checked by another.

    `checks` are (engineer_id, checker_id) pairs.
    """
    pairs = set(checks)
    missing = [msg("S26: check-sheet item {i} not recorded", i=i) for i in unrecorded_items]
    for engineer in team:
        if (engineer, engineer) not in pairs:
            missing.append(msg("S26: no self-check by {engineer}", engineer=engineer))
        if len(team) > 1 and not any(e == engineer and c != engineer and c in team for e, c in pairs):
            missing.append(msg("S26: {engineer}'s items not cross-checked by another engineer of the team",
                engineer=engineer))
    return missing


def check_cross_check(*, team: Sequence[str], engineer_id: str, checker_id: str, self_checked: bool) -> None:
    """S26: a cross-check is by another engineer of the team, after the engineer's self-check."""
    if checker_id not in team or engineer_id not in team:
        raise Forbidden(msg("cross-checks are between engineers of this visit's team"))
    missing: list[str] = []
    if not self_checked:
        missing.append(msg("S26: {engineer_id} has not self-checked yet", engineer_id=engineer_id))
    if missing:
        raise GateRefused(msg("cross-check"), missing)


def check_cleanup(*, site_clean: bool, equipment_clean: bool, already_confirmed: bool) -> None:
    """S27: clean-up is confirmed once, when both the work site and the equipment are clean."""
    missing = [m for ok, m in ((not already_confirmed, msg("S27: clean-up is already confirmed")),
                               (site_clean, msg("S27: the work site is not clean")),
                               (equipment_clean, msg("S27: the equipment is not clean"))) if not ok]
    if missing:
        raise GateRefused(msg("clean-up"), missing)


def check_self_check(*, unrecorded_items: Sequence[str], failed_items: Sequence[str] = ()) -> None:
    """S26: a self-check covers every check-sheet item: each done with its value or photo, and no
    failed value left without its disposition (S25: re-measured, linked issue or customer concession)."""
    missing = [msg("S26: check-sheet item {i} not recorded", i=i) for i in unrecorded_items]
    missing.extend(msg("S26: check-sheet item {i} failed and has no disposition", i=i) for i in failed_items)
    if missing:
        raise GateRefused(msg("self-check"), missing)


# ---------------------------------------------------------------- the work as S30 sees it (S13, S17, S19, S25)

@dataclass(frozen=True)
class EntryView:
    """S13: one recorded check-sheet entry (`name` is `task title/item id`)."""

    name: str
    passed: bool
    signed_off: bool
    requires_witness: bool = False
    witnessed: bool = False
    disposition: str | None = None


@dataclass(frozen=True)
class MilestoneView:
    """S13: one milestone with its witness (S17) and evidence (S19)."""

    title: str
    reached: bool
    requires_witness: bool = False
    witnessed: bool = False
    has_evidence: bool = False


@dataclass(frozen=True)
class WorkState:
    """The visit's work as the S30 gate sees it: tasks (title, status), recorded entries, milestones.

    The service builds it from the records; the state-space test drives it through the same gates.
    """

    tasks: tuple[tuple[str, str], ...] = ()
    entries: tuple[EntryView, ...] = ()
    milestones: tuple[MilestoneView, ...] = ()


def failed_without_disposition(entries: Iterable[EntryView]) -> list[str]:
    """S25/S26: entries whose current value failed and that have no disposition (issue or concession)."""
    return [e.name for e in entries if not e.passed and e.disposition not in ACCEPTED_FOR_FAILED]


def work_missing(work: WorkState) -> list[str]:
    """S13/S17/S19/S25 before S30: every task done; every entry signed off, with its witness where one is
    required and a disposition where its value failed; every milestone reached, witnessed where required,
    with its photo or document."""
    missing = [msg("S13: task '{title}' is {status}, not done", title=title, status=status)
               for title, status in work.tasks if status != "done"]
    for e in work.entries:
        if e.requires_witness and not e.witnessed:
            missing.append(msg("S17: item {name} has no witness recorded", name=e.name))
        if not e.signed_off:
            missing.append(msg("S13: item {name} not signed off", name=e.name))
    missing.extend(msg("S25: item {n} failed (outside its limits) and has no disposition", n=n)
                   for n in failed_without_disposition(work.entries))
    for m in work.milestones:
        if m.requires_witness and not m.witnessed:
            missing.append(msg("S17: milestone '{title}' has no witness recorded", title=m.title))
        if not m.reached:
            missing.append(msg("S13: milestone '{title}' not signed off", title=m.title))
        if not m.has_evidence:
            missing.append(msg("S19: milestone '{title}' has no photo or document", title=m.title))
    return missing


def completion_missing(
    *,
    arrived: bool,
    already_completed: bool,
    work: Sequence[str],
    s26: Sequence[str],
    cleanup_confirmed: bool,
    handover_done: bool,
    drawing_revisions: int,
    revisions_not_dispatched: Sequence[str],
    no_drawing_deviations: bool,
    issues: Sequence[IssueView],
) -> list[str]:
    """S30 gate: the work finished (S13, S17, S19, S25: see `work_missing`), S26, S27, S28 and S29 done;
    no on-site quality issue left open unless escalated."""
    missing: list[str] = []
    if already_completed:
        missing.append(msg("S30: the service receipt is already signed"))
    if not arrived:
        missing.append(msg("S8: no engineer has arrived on site"))
    missing.extend(work)
    missing.extend(s26)
    if not cleanup_confirmed:
        missing.append(msg("S27: clean-up of the site and equipment not confirmed"))
    if not handover_done:
        missing.append(msg("S28: hand-over of accessories and spare parts not recorded"))
    if drawing_revisions == 0 and not no_drawing_deviations:
        missing.append(msg("S29: no drawing revisions recorded and 'no deviations' not declared"))
    missing.extend(msg("S29: drawing {d} not yet sent to the company and mailed to the customer", d=d)
                   for d in revisions_not_dispatched)
    missing.extend(msg("S25: quality issue {issue_id} is still open on site and not escalated",
                       issue_id=i.issue_id)
                   for i in issues if issue_blocks_completion(i))
    return missing


def check_completion_gate(**conditions: object) -> None:
    """Raise GateRefused("completion", ...) listing every missing S30 condition."""
    missing = completion_missing(**conditions)  # type: ignore[arg-type]
    if missing:
        raise GateRefused(msg("completion"), missing)


def check_departure_gate(
    *,
    completed: bool,
    already_departed: bool,
    regional_centre_informed: bool,
    department_head_informed: bool,
    site_manager_agreed: bool,
    pending_tasks: Sequence[str],
) -> None:
    """S33: regional centre and department head informed, site manager agrees, no task pending."""
    missing: list[str] = []
    if already_departed:
        missing.append(msg("S33: this engineer has already departed"))
    if not completed:
        missing.append(msg("S30: the service is not completed (receipt not signed)"))
    if not regional_centre_informed:
        missing.append(msg("S33: the regional service centre has not been informed"))
    if not department_head_informed:
        missing.append(msg("S33: the department head has not been informed"))
    if not site_manager_agreed:
        missing.append(msg("S33: the customer site manager's agreement is not recorded"))
    missing.extend(msg("S33: task '{t}' is still pending", t=t) for t in pending_tasks)
    if missing:
        raise GateRefused(msg("departure"), missing)
