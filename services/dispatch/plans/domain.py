"""Pure rules of S4: a plan moves draft -> submitted -> approved, approved by someone else."""

from __future__ import annotations

from enum import StrEnum

from shared.messages import msg
from shared.problems import GateRefused


class PlanStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


def check_editable(status: str) -> None:
    if status != PlanStatus.DRAFT:
        raise GateRefused(msg("plan edit"), [msg("S4: only a draft plan can be edited (this one is {status})",
            status=status)])


def check_submit(status: str) -> None:
    if status != PlanStatus.DRAFT:
        raise GateRefused(msg("plan submission"), [msg("S4: only a draft plan can be submitted (this one is {status})",
            status=status)])


def check_approval(status: str, author: str, approver: str) -> None:
    """S4: approval of a submitted plan by someone who did not write it (lists every failing rule)."""
    missing = []
    if status != PlanStatus.SUBMITTED:
        missing.append(msg("S4: only a submitted plan can be approved (this one is {status})", status=status))
    if author == approver:
        missing.append(msg("S4: the approver must not be the plan's author"))
    if missing:
        raise GateRefused(msg("plan approval"), missing)
