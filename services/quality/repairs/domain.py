"""Pure rules of a repair order (S28): the status moves one step at a time, never back."""

from __future__ import annotations

from shared.messages import msg
from shared.problems import GateRefused

REPAIR_FLOW: tuple[str, ...] = ("received", "diagnosed", "repaired", "tested", "shipped_back")


def status_change_gate(current: str, new: str) -> None:
    """S28: received -> diagnosed -> repaired -> tested -> shipped_back; a skipped step is named."""
    here, there = REPAIR_FLOW.index(current), REPAIR_FLOW.index(new)
    if there == here + 1:
        return
    if there <= here:
        raise GateRefused(msg("change repair status"),
                          [msg("a status after {current} (the repair is already {current})", current=current)])
    raise GateRefused(msg("change repair status"), [msg("status {s}", s=s) for s in REPAIR_FLOW[here + 1:there]])


def customer_notification(receipt_number: str, equipment: str, status: str, note: str) -> str:
    """The message reported to the customer for a status change (S28: as soon as possible)."""
    words = {"received": "has been received at our repair centre", "diagnosed": "has been diagnosed",
             "repaired": "has been repaired", "tested": "has passed its tests",
             "shipped_back": "has been shipped back to you"}
    text = f"Repair {receipt_number}: your {equipment} {words[status]}."
    return f"{text} {note}".strip() if note else text
