"""Events produced by the quality service (topic `quality.events`): S25, S28 repairs, S34."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from shared.events.registry import EventPayload, event

QUALITY = "quality"

Severity = Literal["critical", "major", "minor"]


@event("IssueLogged", producer=QUALITY)
class IssueLogged(EventPayload):
    """S25: a product quality problem was registered against a case."""

    issue_id: UUID
    case_id: UUID
    visit_id: UUID | None = None
    product: str
    model: str | None = None
    serial_number: str | None = None
    failure_mode: str
    severity: Severity
    description: str
    source: Literal["onsite", "complaint"] = "onsite"
    logged_by: str
