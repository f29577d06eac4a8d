"""Pure rules of S6: the standard's preparation items and when the checklist is complete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DEFAULT_ITEMS: tuple[tuple[str, str], ...] = (
    ("materials", "Materials"),
    ("travel_plan", "Travel plan"),
    ("technical_documents", "Technical documents"),
    ("spare_parts", "Spare parts"),
    ("tools", "Tools"),
    ("certificates", "Certificates"),
)


def fresh_items() -> list[dict[str, Any]]:
    return [{"key": k, "label": label, "done": False, "note": "", "ticked_by": None, "ticked_at": None}
            for k, label in DEFAULT_ITEMS]


def is_complete(items: Sequence[dict[str, Any]]) -> bool:
    """S6: every item ticked."""
    return bool(items) and all(i["done"] for i in items)


def missing_items(items: Sequence[dict[str, Any]]) -> list[str]:
    return [i["key"] for i in items if not i["done"]]
