"""Site visit tables and their API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.api.params import IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.db import Versioned, timestamptz
from shared.events.dispatch import CaseContacts, TeamMember
from shared.events.onsite import ThreeCallEntry
from shared.events.quality import Severity


class VisitStatus(StrEnum):
    DISPATCHED = "dispatched"
    ON_SITE = "on_site"
    COMPLETED = "completed"


class OnVisit(SQLModel):
    """A row recorded on one site visit: its own id and the visit's (indexed: every list reads a visit's rows)."""

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    visit_id: UUID = SQLField(foreign_key="site_visit.id", index=True)


class Recorded(SQLModel):
    """Who recorded a row, and when the server did."""

    recorded_by: str
    recorded_at: datetime = SQLField(sa_type=timestamptz(), nullable=False)


class SiteVisit(Versioned, table=True):
    """The work on site for one dispatched case; only its team works on it."""

    __tablename__ = "site_visit"

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(unique=True)
    crm_reference: str
    customer_name: str
    site_name: str
    region: str
    equipment_type: str
    team: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    engineer_ids: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    project_manager_id: str | None = None
    contacts: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))
    status: str = SQLField(default=VisitStatus.DISPATCHED, sa_column=Column(String(32), nullable=False))
    planned_start: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    planned_end: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    customer_deadline: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    site_address: str | None = None
    plan: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSONB, nullable=True))
    check_sheets: list[dict[str, Any]] = SQLField(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default="[]"))
    # S33: set by the last engineer's departure; the status stays `completed`.
    closed_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    # S12: the planned completion last reported as at risk (ScheduleAtRisk once per risk).
    risk_reported_completion: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    # S16: the due date of the customer report last flagged as overdue (CustomerReportOverdue once per due date).
    report_overdue_due: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    completed_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    # When the case was dispatched (the ServiceDispatched event's time): nothing on site is reported before it.
    dispatched_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    receipt_signed_by: str | None = None
    receipt_rating: int | None = None


class ThreeCallsRecord(OnVisit, table=True):
    """S8: one engineer's arrival with the three calls made, and what was wrong with them."""

    __tablename__ = "three_calls_record"

    engineer_id: str
    arrived_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    calls: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    compliance_findings: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    recorded_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class VisitQualityIssue(SQLModel, table=True):
    """S25 as seen from the visit: issues the quality service logged on this case."""

    __tablename__ = "visit_quality_issue"

    issue_id: UUID = SQLField(primary_key=True)
    visit_id: UUID = SQLField(foreign_key="site_visit.id", index=True)
    severity: str
    failure_mode: str
    description: str
    status: str = "logged"
    escalated: bool = SQLField(default=False, sa_column_kwargs={"server_default": "false"})
    logged_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class ArrivalCreate(StrictBody):
    """S8: the engineer reports arrival with the three calls in the order made."""

    arrived_at: IsoDateTime
    calls: list[ThreeCallEntry] = Field(max_length=10)


class ThreeCallsRead(RowRead):
    engineer_id: str
    arrived_at: datetime
    calls: list[ThreeCallEntry]
    compliance_findings: list[str]


class VisitIssueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    issue_id: UUID
    severity: Severity
    failure_mode: str
    description: str
    status: str
    escalated: bool = False
    logged_at: datetime


class SiteVisitRead(RowRead):
    case_id: UUID
    crm_reference: str
    customer_name: str
    site_name: str
    region: str
    equipment_type: str
    team: list[TeamMember]
    project_manager_id: str | None
    contacts: CaseContacts
    status: VisitStatus
    planned_start: datetime | None
    planned_end: datetime | None
    customer_deadline: datetime | None = None
    completed_at: datetime | None
    closed_at: datetime | None = None
    receipt_signed_by: str | None
    receipt_rating: int | None
    version: int
    arrivals: list[ThreeCallsRead] = []
    quality_issues: list[VisitIssueRead] = []
