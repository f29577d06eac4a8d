"""Events produced by the dispatch service (topic `dispatch.events`): S1-S7, S12, S22/S23."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events.registry import EventPayload, event

DISPATCH = "dispatch"


class ContactPerson(BaseModel):
    """A person at the customer the engineers must reach (S8 needs three of them)."""

    name: str
    phone: str | None = None
    email: str | None = None


class CaseContacts(BaseModel):
    account_manager: ContactPerson
    customer_contact: ContactPerson
    site_interface: ContactPerson


class TeamMember(BaseModel):
    engineer_id: str
    name: str
    grade: int = Field(ge=1, le=5)
    is_project_manager: bool = False


@event("ServiceRequestReceived", producer=DISPATCH)
class ServiceRequestReceived(EventPayload):
    """S1: the CRM pushed a service request and a service case was opened."""

    case_id: UUID
    crm_reference: str
    customer_name: str
    site_name: str
    region: str
    equipment_type: str
    urgency: str
    difficulty: str
    customer_importance: str


@event("ServiceRequestAcknowledged", producer=DISPATCH)
class ServiceRequestAcknowledged(EventPayload):
    """S1: a dispatcher confirmed the request in the system."""

    case_id: UUID
    acknowledged_by: str


@event("ServiceDispatched", producer=DISPATCH)
class ServiceDispatched(EventPayload):
    """S6 gate passed: the team leaves. Carries what the onsite service needs for the visit."""

    case_id: UUID
    crm_reference: str
    customer_name: str
    site_name: str
    site_address: str | None = None
    region: str
    equipment_type: str
    team: list[TeamMember]
    project_manager_id: str | None = None
    contacts: CaseContacts
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    customer_deadline: datetime | None = None
