"""Pure rule of S7: a new arrival needs both notifications, for a case not yet on site."""

from __future__ import annotations

from datetime import datetime

from services.dispatch.cases.models import CaseStatus
from shared.api.problems import GateRefused


def check_reschedule(status: CaseStatus, customer_notified_at: datetime | None,
                     regional_centre_notified_at: datetime | None) -> None:
    """S7 gate: the customer AND the regional service centre were notified (lists each missing one)."""
    missing = []
    if status not in (CaseStatus.ACKNOWLEDGED, CaseStatus.DISPATCHED):
        missing.append(f"S7: only a staffed case not yet on site can be rescheduled (it is {status.value})")
    if customer_notified_at is None:
        missing.append("S7: the customer's notification is not recorded")
    if regional_centre_notified_at is None:
        missing.append("S7: the regional service centre's notification is not recorded")
    if missing:
        raise GateRefused("arrival reschedule", missing)
