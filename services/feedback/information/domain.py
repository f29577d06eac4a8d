"""Pure rules of S32: where customer information goes, and what an answer needs."""

from __future__ import annotations

from shared.messages import msg
from shared.problems import GateRefused

REGIONAL_CENTRE = "regional_centre"


def route(kind: str, region: str, routing: dict[str, str], requested: str | None = None) -> str:
    """S32: the department for this kind of information ('regional_centre' means the case's region's)."""
    department = requested or routing.get(kind) or REGIONAL_CENTRE
    if department == REGIONAL_CENTRE:
        return f"{REGIONAL_CENTRE}:{region}" if region else REGIONAL_CENTRE
    return department


def check_answer_gate(*, status: str, answer: str, notified: bool) -> None:
    """S32 closes when the department answered AND the customer was told the outcome."""
    missing = []
    if status != "routed":
        missing.append(msg("information still open (it is {status})", status=status))
    if not answer.strip():
        missing.append(msg("the department's answer"))
    if not notified:
        missing.append(msg("a recorded notification of the customer"))
    if missing:
        raise GateRefused(msg("S32 customer information answered"), missing)


def may_answer(department: str, *, roles: frozenset[str], region: str | None, unit: str | None) -> bool:
    """A regional centre answers its region's items; a department head their department's; admin all."""
    if "admin" in roles:
        return True
    if department.startswith(f"{REGIONAL_CENTRE}:") or department == REGIONAL_CENTRE:
        return "regional_centre" in roles and (department == REGIONAL_CENTRE
                                                or department == f"{REGIONAL_CENTRE}:{region}")
    return "department_head" in roles and unit == department
