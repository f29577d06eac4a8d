"""Service case tables and their API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import Column, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.dispatch.cases.domain import CaseStatus
from shared.api.concurrency import VersionedRead
from shared.api.params import IsoDateTime
from shared.api.shapes import StrictBody
from shared.api.text import NonBlank
from shared.db import Versioned, timestamptz
from shared.events.dispatch import CaseContacts


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ServiceCase(Versioned, table=True):
    """One installation & commissioning job, from the CRM's request to the follow-up call."""

    __tablename__ = "service_case"
    __table_args__ = (
        Index("ix_service_case_created", "created_at", "id"),
        Index("ix_service_case_status_created", "status", "created_at", "id"),
        # case search by a part of the customer's name (ILIKE '%...%'); an engineer on the team is
        # searched through the current engineer_assignment rows (their own index)
        Index("ix_service_case_customer_trgm", "customer_name", postgresql_using="gin",
              postgresql_ops={"customer_name": "gin_trgm_ops"}),
    )

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    crm_reference: str = SQLField(sa_column=Column(String(64), unique=True, nullable=False))
    customer_name: str
    site_name: str
    site_address: str | None = None
    region: str = SQLField(index=True)
    equipment_type: str
    equipment_model: str | None = None
    equipment_quantity: int = 1
    contract_reference: str | None = None
    requested_work: str
    urgency: str
    difficulty: str
    customer_importance: str
    contacts: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))
    customer_language: str | None = SQLField(default=None, sa_column=Column(String(16), nullable=True))
    status: str = SQLField(default=CaseStatus.RECEIVED, sa_column=Column(String(32), nullable=False))
    team: list[dict[str, Any]] = SQLField(default_factory=list, sa_column=Column(JSONB, nullable=False,
                                                                                 server_default="[]"))
    planned_start: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    planned_end: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    required_arrival: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    customer_deadline: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    conditions_confirmed_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    staffed_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    staffing_policy_version: int | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    dispatched_by: str | None = None
    dispatched_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    created_by: str


class CaseEvent(SQLModel, table=True):
    """Every event of any service about a case: the case's timeline and conformance evidence."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_time", "case_id", "occurred_at"),
                      # S20's daily digest reads a few types of event over the last days
                      Index("ix_case_event_type_time", "event_type", "occurred_at"))

    event_id: UUID = SQLField(primary_key=True)
    case_id: str = SQLField(sa_column=Column(String(64), nullable=False))
    event_type: str = SQLField(sa_column=Column(String(96), nullable=False))
    source: str = SQLField(sa_column=Column(String(96), nullable=False))
    actor: str
    occurred_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    recorded_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False, server_default=text("now()")))
    data: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))


class Equipment(StrictBody):
    type: NonBlank = Field(min_length=1, max_length=100, examples=["GIS 126kV"])
    model: str | None = Field(default=None, max_length=100)
    quantity: int = Field(default=1, ge=1, le=10_000)


class ServiceRequestCreate(StrictBody):
    """S1: a service request as the CRM sends it."""

    crm_reference: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
    customer_name: NonBlank = Field(min_length=1, max_length=200)
    site_name: NonBlank = Field(min_length=1, max_length=200)
    site_address: str | None = Field(default=None, max_length=500)
    region: NonBlank = Field(min_length=1, max_length=64)
    equipment: Equipment
    contract_reference: str | None = Field(default=None, max_length=64)
    requested_work: NonBlank = Field(min_length=1, max_length=4000)
    urgency: Level
    difficulty: Level
    customer_importance: Level
    contacts: CaseContacts
    customer_language: str | None = Field(
        default=None, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", examples=["zh", "en"],
        description="The customer contact's preferred language for notifications (BCP 47, e.g. `zh`, `en`); "
                    "other languages and none get NOTIFY_DEFAULT_LANGUAGE. The contact's e-mail (else phone) "
                    "in `contacts.customer_contact` is where the customer's notifications go")


class TeamMemberIn(StrictBody):
    engineer_id: NonBlank = Field(min_length=1, max_length=64)
    name: NonBlank = Field(min_length=1, max_length=200)
    grade: int = Field(ge=1, le=5)
    is_project_manager: StrictBool = False


class DispatchCommand(StrictBody):
    """S6: dispatch the team staffed at S3 with the approved plan (S4) and the pack (S5).

    Everything the event carries comes from the case's recorded steps; the dispatcher only adds a note."""

    note: str = Field(default="", max_length=2000)


class ServiceCaseRead(VersionedRead):
    id: UUID
    crm_reference: str
    customer_name: str
    site_name: str
    site_address: str | None
    region: str
    equipment_type: str
    equipment_model: str | None
    equipment_quantity: int
    contract_reference: str | None
    requested_work: str
    urgency: str
    difficulty: str
    customer_importance: str
    contacts: CaseContacts
    customer_language: str | None = None
    status: CaseStatus
    team: list[TeamMemberIn]
    planned_start: datetime | None
    planned_end: datetime | None
    required_arrival: datetime | None
    customer_deadline: datetime | None
    conditions_confirmed_at: datetime | None
    staffed_at: datetime | None
    staffing_policy_version: int | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    dispatched_by: str | None
    dispatched_at: datetime | None


class CaseEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: UUID
    event_type: str
    source: str
    actor: str
    occurred_at: datetime
    data: dict[str, Any]


class CaseSearch(StrictBody):
    """Filters of the case list (all optional, combined with AND)."""

    status: CaseStatus | None = None
    region: str | None = Field(default=None, max_length=64)
    customer: str | None = Field(default=None, min_length=1, max_length=200, description="Part of the customer name")
    engineer: str | None = Field(default=None, max_length=64, description="An engineer on the team")
    created_from: IsoDateTime | None = None
    created_to: IsoDateTime | None = None
    planned_from: IsoDateTime | None = Field(default=None, description="Planned window ends at or after")
    planned_to: IsoDateTime | None = Field(default=None, description="Planned window starts before")
