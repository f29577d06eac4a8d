"""Pure rules of S5: which templates fit a case, how a pack is instantiated, how a template is revised."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar
from uuid import UUID

from shared.events.dispatch import CheckSheet, CheckSheetItem


class SpecificationTemplate(Protocol):
    """What the S5 rules read of a template version (the table row has more)."""

    @property
    def template_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def equipment_type(self) -> str: ...
    @property
    def difficulty(self) -> str | None: ...
    @property
    def items(self) -> list[dict[str, Any]]: ...


Template = TypeVar("Template", bound=SpecificationTemplate)


def fits(template: SpecificationTemplate, *, equipment_type: str, difficulty: str) -> bool:
    """S5: templates are chosen by equipment type and difficulty (no difficulty: every one)."""
    return template.equipment_type == equipment_type and template.difficulty in (None, difficulty)


def newest(templates: Sequence[Template]) -> list[Template]:
    """S5: the newest version of each template."""
    best: dict[str, Template] = {}
    for t in templates:
        if t.template_id not in best or t.version > best[t.template_id].version:
            best[t.template_id] = t
    return sorted(best.values(), key=lambda t: t.template_id)


def instantiate(templates: Sequence[SpecificationTemplate], pack_id: UUID) -> list[CheckSheet]:
    """S5: one sheet per template version, with the items onsite records against (S13, S17, S19, S26)."""
    return [CheckSheet(sheet_id=f"{pack_id.hex[:8]}-{t.template_id}", kind=t.kind, title=t.title,
                       template_id=t.template_id, template_version=t.version,
                       items=[CheckSheetItem(**i) for i in t.items]) for t in templates]


def preventive_item(issue_id: UUID, action: str) -> dict:
    """A yes/no check added by a preventive action of the quality loop."""
    return {"item_id": f"pa-{issue_id.hex[:12]}", "text": action[:1000], "kind": "yes_no", "unit": None,
            "lower_limit": None, "upper_limit": None, "requires_witness": False, "requires_photo": False,
            "live_hv": False, "primary_test": False}
