"""Pure rules of S6: the preparation items (the standard's categories, the S4 plan's and S2's company-side
items) and when the checklist is complete."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from shared.messages import msg
from shared.problems import Forbidden

DEFAULT_ITEMS: tuple[tuple[str, str], ...] = (
    ("materials", "Materials"),
    ("travel_plan", "Travel plan"),
    ("technical_documents", "Technical documents"),
    ("spare_parts", "Spare parts"),
    ("tools", "Tools"),
    ("certificates", "Certificates"),
)


def _item(key: str, label: str, source: str) -> dict[str, Any]:
    return {"key": key, "label": label, "source": source, "done": False, "note": "", "ticked_by": None,
            "ticked_at": None}


def derived_key(source: str, label: str) -> str:
    """A stable key for an item named by the plan or the S2 call (the same label keeps its tick)."""
    return f"{source}-{hashlib.sha256(label.strip().lower().encode()).hexdigest()[:8]}"


def fresh_items(plan_items: Sequence[str] = (), company_items: Sequence[str] = ()) -> list[dict[str, Any]]:
    """S6: the standard's categories, then what the S4 plan asks to prepare, then the company-side preparation
    agreed with the customer in S2 (each label once)."""
    items = [_item(k, label, "standard") for k, label in DEFAULT_ITEMS]
    seen = {label.lower() for _, label in DEFAULT_ITEMS}
    for source, labels in (("plan", plan_items), ("s2", company_items)):
        for label in labels:
            if label.strip() and label.strip().lower() not in seen:
                seen.add(label.strip().lower())
                items.append(_item(derived_key(source, label), label.strip(), source))
    return items


def merged(stored: Sequence[dict[str, Any]], wanted: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """S6: the items the plan and the S2 call ask for now, keeping the ticks already recorded for them."""
    ticks = {i["key"]: i for i in stored}
    return [{**w, **{k: ticks[w["key"]][k] for k in ("done", "note", "ticked_by", "ticked_at")}}
            if w["key"] in ticks else dict(w) for w in wanted]


def check_may_tick(*, is_dispatcher: bool, subject: str, team: Sequence[str]) -> None:
    """S6: the dispatcher ticks any item; the engineers who prepare (the case's team) tick theirs."""
    if not is_dispatcher and subject not in team:
        raise Forbidden(msg("only the dispatcher or an engineer of the case's team ticks its preparation items"))


def is_complete(items: Sequence[dict[str, Any]]) -> bool:
    """S6: every item ticked."""
    return bool(items) and all(i["done"] for i in items)


def missing_items(items: Sequence[dict[str, Any]]) -> list[str]:
    return [i["key"] for i in items if not i["done"]]
