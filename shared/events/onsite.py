"""Events produced by the onsite service (topic `onsite.events`): S8-S24, S26-S31, S33."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from shared.events.registry import EventPayload, event

ONSITE = "onsite"

CallParty = Literal["account_manager", "customer_contact", "site_interface"]


class ThreeCallEntry(BaseModel):
    """One of the S8 calls: whom, when, how (phone or in person) and the outcome."""

    party: CallParty
    called_at: AwareDatetime
    in_person: bool = False
    outcome: str = Field(min_length=1, max_length=1000)


@event("EngineerArrived", producer=ONSITE)
class EngineerArrived(EventPayload):
    """S8: an engineer arrived on site, with the three calls in the order they were made."""

    case_id: UUID
    visit_id: UUID
    engineer_id: str
    arrived_at: datetime
    calls: list[ThreeCallEntry]
    compliance_findings: list[str] = Field(default_factory=list)


@event("ServiceCompleted", producer=ONSITE)
class ServiceCompleted(EventPayload):
    """S30: the result report is accepted and the service receipt signed."""

    case_id: UUID
    visit_id: UUID
    completed_at: datetime
    customer_name: str
    region: str
    equipment_type: str
    engineer_ids: list[str]
    receipt_rating: int | None = Field(default=None, ge=1, le=5)
    receipt_comment: str | None = None
