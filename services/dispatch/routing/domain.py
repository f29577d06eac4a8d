"""Pure rules of S22-S24: an item is routed to a unit before it is answered; never refused."""

from __future__ import annotations

from enum import StrEnum

from shared.messages import msg
from shared.problems import Forbidden, GateRefused


class RoutedStatus(StrEnum):
    RAISED = "raised"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"  # S24: mediation failed; the department heads answer
    ANSWERED = "answered"


def check_route(status: str) -> None:
    if status == RoutedStatus.ANSWERED:
        raise GateRefused(msg("routing"), [msg("S22-S24: the item is already answered")])


def check_answer(status: str) -> None:
    """The answer comes from the unit the item was routed to (or, for an escalated S24 item, the heads)."""
    if status not in (RoutedStatus.ASSIGNED, RoutedStatus.ESCALATED):
        raise GateRefused(msg("answer"), [msg("S22-S24: only an item routed to a unit can be answered (it is {status})",
            status=status)])


def answering_on_behalf(*, status: str, unit: str | None, roles: frozenset[str], principal_unit: str | None,
                        principal_region: str | None) -> bool:
    """S22-S24: who may answer. The routed unit itself (a token whose `unit` or `region` is the item's unit)
    answers directly; an escalated S24 item is answered by a department head; a dispatcher or admin may
    answer on the unit's behalf, which is recorded (True). Anyone else is refused."""
    if status == RoutedStatus.ESCALATED and "department_head" in roles:
        return False
    if unit is not None and unit in (principal_unit, principal_region) and roles & {"department_head",
                                                                                   "regional_centre"}:
        return False
    if roles & {"dispatcher", "admin"}:
        return True
    raise Forbidden(msg("the item is routed to {unit}; only that unit (token unit or region), a department head once "
        "escalated, or a dispatcher on its behalf answers it",
        unit=unit))


def check_mediation(*, kind: str, status: str) -> None:
    """S24: an internal disagreement routed to the units is mediated (once) before it is escalated."""
    missing: list[str] = []
    if kind != "internal_disagreement":
        missing.append(msg("S24: only an internal disagreement is mediated"))
    if status != RoutedStatus.ASSIGNED:
        missing.append(msg("S24: only a routed, unanswered disagreement is mediated (it is {status})", status=status))
    if missing:
        raise GateRefused(msg("mediation"), missing)
