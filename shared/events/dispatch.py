"""Events produced by the dispatch service (topic `dispatch.events`): S1-S7, S12, S22/S23, the closed case."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events.registry import CaseEvent, EventPayload, event

DISPATCH = "dispatch"


class ContactPerson(BaseModel):
    """A person at the customer the engineers must reach (S8 needs three of them)."""

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=200)


class CaseContacts(BaseModel):
    account_manager: ContactPerson
    customer_contact: ContactPerson
    site_interface: ContactPerson


class TeamMember(BaseModel):
    engineer_id: str
    name: str
    grade: int = Field(ge=1, le=5)
    is_project_manager: bool = False


CheckItemKind = Literal["value", "yes_no", "photo", "witness"]


class CheckSheetItem(BaseModel):
    """One line of a check sheet: what the engineer must record (S13, S17, S19, S26)."""

    item_id: str
    text: str
    kind: CheckItemKind
    unit: str | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    requires_witness: bool = False
    requires_photo: bool = False
    live_hv: bool = False
    primary_test: bool = False


class CheckSheet(BaseModel):
    """A process document, flow card or check sheet instantiated for a case (S5)."""

    sheet_id: str
    kind: Literal["process_document", "flow_card", "check_sheet"]
    title: str
    template_id: str
    template_version: int
    items: list[CheckSheetItem] = Field(default_factory=list)


class PlanStep(BaseModel):
    order: int
    title: str
    operation: str = ""
    how: str = ""


class ServicePlanSummary(BaseModel):
    """The approved service plan (S4) that onsite works by."""

    plan_id: UUID
    version: int
    goals: list[str] = Field(default_factory=list)
    steps: list[PlanStep] = Field(default_factory=list)
    risk_measures: list[str] = Field(default_factory=list)
    preparation_items: list[str] = Field(default_factory=list, description="S6: what the plan asked to prepare")
    report_period_days: int | None = Field(default=None, description="S16: days between reports to the customer")


class CaseFactsEvent(CaseEvent):
    """Base of the events that carry what a case is: the CRM's reference, the customer and site, the region
    and the equipment (for consumers that keep their own copy of the case)."""

    crm_reference: str
    customer_name: str
    site_name: str
    region: str
    equipment_type: str


@event("ServiceRequestReceived", producer=DISPATCH)
class ServiceRequestReceived(CaseFactsEvent):
    """S1: the CRM pushed a service request and a service case was opened."""

    urgency: str
    difficulty: str
    customer_importance: str


@event("ServiceRequestAcknowledged", producer=DISPATCH)
class ServiceRequestAcknowledged(CaseEvent):
    """S1: a dispatcher confirmed the request in the system."""

    acknowledged_by: str


@event("ServiceConditionsConfirmed", producer=DISPATCH)
class ServiceConditionsConfirmed(CaseEvent):
    """S2: the dispatcher's call with the customer confirmed the service conditions."""

    site_address: str
    required_arrival: datetime
    confirmed_by: str
    called_at: datetime


@event("ServicePostponed", producer=DISPATCH)
class ServicePostponed(CaseEvent):
    """S2: conditions not met; the reason and the agreed new date are recorded."""

    reason: str
    new_date: date
    recorded_by: str


@event("PostponementDue", producer=DISPATCH)
class PostponementDue(CaseEvent):
    """S2: a postponement reached its agreed date; the dispatcher must call again."""

    postponed_until: date


@event("EngineersAssigned", producer=DISPATCH)
class EngineersAssigned(CaseEvent):
    """S3: the team is staffed under the staffing policy; one project manager if two or more."""

    team: list[TeamMember]
    project_manager_id: str | None = None
    planned_start: datetime
    planned_end: datetime
    policy_version: int | None = None


@event("ServicePlanApproved", producer=DISPATCH)
class ServicePlanApproved(CaseEvent):
    """S4: the service plan was approved by someone other than its author."""

    plan_id: UUID
    version: int
    author: str
    approved_by: str


@event("SpecificationPackAttached", producer=DISPATCH)
class SpecificationPackAttached(CaseEvent):
    """S5: process documents, flow cards and check sheets instantiated for the case."""

    pack_id: UUID
    templates: list[str] = Field(default_factory=list, description="template_id@version")


@event("PreparationCompleted", producer=DISPATCH)
class PreparationCompleted(CaseEvent):
    """S6: every preparation item (materials, travel, documents, parts, tools, certificates) ticked."""

    items: int
    completed_by: str


@event("ServiceDispatched", producer=DISPATCH)
class ServiceDispatched(CaseFactsEvent):
    """S6 gate passed: the team leaves. Carries what the onsite service needs for the visit."""

    site_address: str | None = None
    team: list[TeamMember]
    project_manager_id: str | None = None
    contacts: CaseContacts
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    customer_deadline: datetime | None = None
    plan: ServicePlanSummary | None = None
    check_sheets: list[CheckSheet] = Field(default_factory=list)


@event("ArrivalRescheduled", producer=DISPATCH)
class ArrivalRescheduled(CaseEvent):
    """S7: the team cannot arrive on time; customer and regional centre were both notified."""

    previous_arrival: datetime | None = None
    new_arrival: datetime
    reason: str
    customer_notified_at: datetime
    regional_centre_notified_at: datetime
    planned_start: datetime | None = Field(default=None, description="The new planned window's start (the new arrival)")
    planned_end: datetime | None = Field(default=None,
                                         description="The new planned window's end (same length as before)")
    engineer_ids: list[str] = Field(default_factory=list,
                                    description="The engineers whose bookings moved to the new window (S3 re-checked)")
    informed_by_system: bool = Field(
        default=False, description="S7: the system's own messages told the customer and the regional centre "
        "(decision 0090); the notified-at times are when those messages were sent, and nobody is told again")


@event("StaffAdded", producer=DISPATCH)
class StaffAdded(CaseEvent):
    """S12: engineers added to a team after ScheduleAtRisk, under the same staffing rules."""

    staffing_request_id: UUID
    engineers: list[TeamMember]


RoutedKind = Literal["referral", "abnormal_request", "internal_disagreement"]


class RoutedItemEvent(CaseEvent):
    """Base of the events of an item raised on site (S22-S24): every one names its case and item."""

    item_id: UUID


@event("RoutedItemAssigned", producer=DISPATCH)
class RoutedItemAssigned(RoutedItemEvent):
    """S22-S24: an item raised on site was routed to a unit of the group."""

    kind: RoutedKind
    unit: str
    assigned_by: str


@event("RoutedItemAnswered", producer=DISPATCH)
class RoutedItemAnswered(RoutedItemEvent):
    """S22-S24: the unit answered; the answer goes back to the case and the visit."""

    kind: RoutedKind
    answer: str
    answered_by: str
    unit: str | None = Field(default=None, description="The unit the item was routed to")
    on_behalf: bool = Field(default=False, description="A dispatcher or admin answered on the unit's behalf")


@event("InternalDisagreementEscalated", producer=DISPATCH)
class InternalDisagreementEscalated(RoutedItemEvent):
    """S24: the mediation between the units did not resolve the disagreement; the department heads decide."""

    mediation: str
    mediated_by: str
    unit: str | None = None
    escalated_to: Literal["department_heads"] = "department_heads"


@event("SpecificationTemplateRevised", producer=DISPATCH)
class SpecificationTemplateRevised(EventPayload):
    """S5: a template has a new version (e.g. after a preventive action); next cases use it."""

    template_id: str
    version: int
    equipment_type: str
    revised_by: str
    issue_id: UUID | None = None
    case_id: UUID | None = None


@event("CaseClosed", producer=DISPATCH)
class CaseClosed(CaseEvent):
    """The standard's last duties are done (decision 0075): every engineer left (S33), the follow-up
    calls ended (S34), no quality issue (S25), routed item (S22-S24), customer information (S32) or
    repair order (S28) is open."""

    closed_at: datetime


@event("CaseReopened", producer=DISPATCH)
class CaseReopened(CaseEvent):
    """A closed case has a duty open again (a reopened issue, a new call, a complaint): back to completed."""

    reasons: list[str] = Field(default_factory=list)


@event("WebhookSubscriptionDisabled", producer=DISPATCH)
class WebhookSubscriptionDisabled(EventPayload):
    """An outbound webhook subscription failed for too long and was disabled (decision 0083); the
    envelope's subject is the subscription id (no case)."""

    subscription_id: UUID
    url: str
    owner: str = Field(description="Who registered the subscription")
    reason: str
    failing_since: datetime
    disabled_at: datetime
