"""Pure rules of S4: a plan moves draft -> submitted -> approved, approved by someone else."""

from __future__ import annotations

from enum import StrEnum

from shared.problems import GateRefused


class PlanStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


def check_editable(status: str) -> None:
    if status != PlanStatus.DRAFT:
        raise GateRefused("plan edit", [f"S4: only a draft plan can be edited (this one is {status})"])


def check_submit(status: str) -> None:
    if status != PlanStatus.DRAFT:
        raise GateRefused("plan submission", [f"S4: only a draft plan can be submitted (this one is {status})"])


def check_approval(status: str, author: str, approver: str) -> None:
    """S4: approval of a submitted plan by someone who did not write it (lists every failing rule)."""
    missing = []
    if status != PlanStatus.SUBMITTED:
        missing.append(f"S4: only a submitted plan can be approved (this one is {status})")
    if author == approver:
        missing.append("S4: the approver must not be the plan's author")
    if missing:
        raise GateRefused("plan approval", missing)
