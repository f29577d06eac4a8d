"""Pure rules of S22-S24: an item is routed to a unit before it is answered; never refused."""

from __future__ import annotations

from services.dispatch.routing.models import RoutedStatus
from shared.api.problems import GateRefused


def check_route(status: str) -> None:
    if status == RoutedStatus.ANSWERED:
        raise GateRefused("routing", ["S22-S24: the item is already answered"])


def check_answer(status: str) -> None:
    """The answer comes from the unit the item was routed to."""
    if status != RoutedStatus.ASSIGNED:
        raise GateRefused("answer", [f"S22-S24: only an item routed to a unit can be answered (it is {status})"])
