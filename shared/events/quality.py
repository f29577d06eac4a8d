"""Events produced by the quality service (topic `quality.events`): S25, S28 repairs, S34 complaints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.events.registry import CaseEvent, event

QUALITY = "quality"

Severity = Literal["critical", "major", "minor"]


class IssueEvent(CaseEvent):
    """Base of issue events: every one names its issue and case."""

    issue_id: UUID


@event("IssueLogged", producer=QUALITY)
class IssueLogged(IssueEvent):
    """S25: a product quality problem was registered against a case."""

    visit_id: UUID | None = None
    product: str
    model: str | None = None
    serial_number: str | None = None
    failure_mode: str
    severity: Severity
    description: str
    source: Literal["onsite", "complaint"] = "onsite"
    logged_by: str
    customer_visible: bool = True
    complaint_id: UUID | None = Field(default=None, description="The feedback complaint the issue was logged from "
                                      "(set when `source` is `complaint`)")


@event("IssueResolvedOnSite", producer=QUALITY)
class IssueResolvedOnSite(IssueEvent):
    """S25: fixed on site, confirmed by the customer."""

    resolution: str
    resolved_by: str
    customer_confirmed_by: str


@event("IssueEscalated", producer=QUALITY)
class IssueEscalated(IssueEvent):
    """S25: sent to the company's closed-loop rapid handling (unit, owner, SLA due date)."""

    responsible_unit: str
    owner: str
    due_at: datetime


@event("IssueContained", producer=QUALITY)
class IssueContained(IssueEvent):
    """Closed loop: containment in place."""

    action: str
    by: str


@event("RootCauseIdentified", producer=QUALITY)
class RootCauseIdentified(IssueEvent):
    """Closed loop: root cause found by 5 whys or fishbone."""

    method: Literal["five_whys", "fishbone"]
    root_cause: str
    by: str


class ActionEvent(IssueEvent):
    """Base of the closed loop's actions: what is done, who owns it, who defined it."""

    action: str
    owner: str
    by: str


@event("CorrectiveActionDefined", producer=QUALITY)
class CorrectiveActionDefined(ActionEvent):
    """Closed loop: what corrects this occurrence."""


@event("PreventiveActionDefined", producer=QUALITY)
class PreventiveActionDefined(ActionEvent):
    """Closed loop: what prevents recurrence; may ask dispatch to revise a specification template."""

    template_id: str | None = None
    equipment_type: str | None = None
    revision_note: str | None = None


@event("IssueVerified", producer=QUALITY)
class IssueVerified(IssueEvent):
    """Closed loop: the effectiveness of the actions was verified."""

    evidence: str
    effective: bool
    by: str


@event("IssueClosed", producer=QUALITY)
class IssueClosed(IssueEvent):
    """The loop is closed (root cause, corrective and preventive action, verification present)."""

    closed_by: str
    customer_visible: bool = True
    customer_name: str | None = None
    region: str | None = None


@event("IssueReopened", producer=QUALITY)
class IssueReopened(IssueEvent):
    """A closed issue reopened, with the reason."""

    reason: str
    by: str


class SlaClockEvent(IssueEvent):
    """Base of an issue's SLA clock events: which clock, and its deadline."""

    clock: Literal["response", "resolution"]
    due_at: datetime


@event("IssueSlaWarning", producer=QUALITY)
class IssueSlaWarning(SlaClockEvent):
    """An SLA clock is close to its deadline."""


@event("IssueSlaBreached", producer=QUALITY)
class IssueSlaBreached(SlaClockEvent):
    """An SLA clock passed its deadline."""


class RepairEvent(CaseEvent):
    """Base of repair order events (S28): every one names its repair order and case."""

    repair_order_id: UUID


@event("RepairOrderOpened", producer=QUALITY)
class RepairOrderOpened(RepairEvent):
    """S28: a repair order for equipment taken back, with the customer's receipt number."""

    receipt_number: str
    equipment: str


@event("RepairStatusChanged", producer=QUALITY)
class RepairStatusChanged(RepairEvent):
    """S28: the repair moved on; the customer was told (recorded notification)."""

    status: Literal["received", "diagnosed", "repaired", "tested", "shipped_back"]
    customer_notified_at: datetime
    note: str = Field(default="")
