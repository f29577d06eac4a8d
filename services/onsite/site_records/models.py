"""Tables and API shapes of the records kept on site (S15, S16, S18, S21-S24, S31, S32)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.onsite.visits.models import OnVisit, Recorded
from shared.api.params import IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz_column


def _json() -> Any:
    return Column(JSONB, nullable=False)


class CommunicationEntry(OnVisit, table=True):
    """S15: a request to the customer, a difficulty or an agreed solution (attachments as evidence)."""

    __tablename__ = "communication_entry"
    kind: str
    text: str
    counterpart: str
    logged_by: str
    logged_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))


class CustomerReport(OnVisit, table=True):
    """S16: a periodic report to the customer with their opinion; a disagreement is escalated, not argued."""

    __tablename__ = "customer_report"
    summary: str
    customer_opinion: str
    customer_agrees: bool | None = None
    escalated_to: str | None = None
    sent_by: str
    sent_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))


class ProcessRecord(OnVisit, Recorded, table=True):
    """S18: drawing modification (what, why, who approved), problem handling, minutes, design change."""

    __tablename__ = "process_record"
    kind: str
    title: str
    description: str
    reason: str | None = None
    approved_by: str | None = None
    participants: list[str] = SQLField(sa_column=_json())
    change_document: str | None = None
    change_document_evidence_id: UUID | None = None


class LeaveRequest(OnVisit, table=True):
    """S21: leaving mid-way: the site manager's consent, or a refusal and an approved exception."""

    __tablename__ = "leave_request"
    engineer_id: str
    reason: str
    site_manager: str
    consent: bool
    exception_reason: str | None = None
    exception_approved_by: str | None = None
    exception_approved_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    may_leave: bool
    decided_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    # S21: when the periodic check found the refused engineer gone (flagged once).
    breach_flagged_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))


class RaisedItem(OnVisit, table=True):
    """S22-S24: a referral, abnormal request or internal disagreement routed through dispatch until answered."""

    __tablename__ = "raised_item"
    kind: str
    summary: str
    details: str
    subject: str
    status: str = "open"
    unit: str | None = None
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    raised_by: str
    raised_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))


class TrainingMaterial(SQLModel, table=True):
    """S31: the catalogue of training materials; only approved ones may be used."""

    __tablename__ = "training_material"
    code: str = SQLField(primary_key=True)
    title: str
    approved: bool = False
    approved_by: str | None = None
    created_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))


class TrainingSession(OnVisit, table=True):
    """S31: training delivered to the customer."""

    __tablename__ = "training_session"
    topics: list[str] = SQLField(sa_column=_json())
    materials: list[str] = SQLField(sa_column=_json())
    attendees: list[str] = SQLField(sa_column=_json())
    demonstration: bool
    evaluation_scores: list[int] = SQLField(sa_column=_json())
    evaluation_declined: bool = False
    test_scores: list[float] = SQLField(sa_column=_json())
    delivered_by: str
    delivered_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))


class CustomerInformation(OnVisit, table=True):
    """S32: an opinion, suggestion or business lead heard on site (routed by the feedback service)."""

    __tablename__ = "site_customer_information"
    kind: str
    text: str
    captured_by: str
    captured_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))


# ---------------------------------------------------------------- API shapes

_Short = Field(min_length=1, max_length=300)
_Long = Field(min_length=1, max_length=8000)


class CommunicationCreate(StrictBody):
    kind: Literal["request", "difficulty", "agreed_solution", "other"]
    text: NonBlank = _Long
    counterpart: NonBlank = _Short


class CommunicationRead(CommunicationCreate, RowRead):
    logged_by: str
    logged_at: datetime


class CustomerReportCreate(StrictBody):
    summary: NonBlank = _Long
    customer_opinion: str = Field(default="", max_length=8000)
    customer_agrees: StrictBool | None = None
    escalate_to: Literal["unit_leadership", "regional_centre"] | None = None


class CustomerReportRead(RowRead):
    summary: str
    customer_opinion: str
    customer_agrees: bool | None
    escalated_to: str | None
    sent_by: str
    sent_at: datetime


class ProcessRecordCreate(StrictBody):
    kind: Literal["drawing_modification", "problem_handling", "meeting_minutes", "design_change"]
    title: NonBlank = _Short
    description: NonBlank = _Long
    reason: NonBlank | None = Field(default=None, max_length=4000)
    approved_by: NonBlank | None = Field(default=None, max_length=200)
    participants: list[NonBlank] = Field(default_factory=list, max_length=100)
    change_document: NonBlank | None = Field(
        default=None, max_length=300, description="S18: a design change's change document (its number or title)")
    change_document_evidence_id: UUID | None = Field(
        default=None, description="S18: or the change document uploaded as evidence of this visit")


class ProcessRecordRead(ProcessRecordCreate, RowRead):
    recorded_by: str
    recorded_at: datetime


class LeaveCreate(StrictBody):
    """S21: the site manager's answer; after a refusal only an approved exception lets the engineer leave."""

    reason: NonBlank = _Long
    site_manager: NonBlank = _Short
    consent: StrictBool
    exception_reason: NonBlank | None = Field(
        default=None, max_length=4000,
        description="S21: after a refusal, why an exception is asked for; a department head approves it")


class LeaveRead(RowRead):
    engineer_id: str
    reason: str
    site_manager: str
    consent: bool
    exception_reason: str | None
    exception_approved_by: str | None
    exception_approved_at: datetime | None = None
    may_leave: bool
    decided_at: datetime


class RaisedItemCreate(StrictBody):
    """S22 referral (subject = product), S23 abnormal request (subject = topic), S24 disagreement (units)."""

    kind: Literal["referral", "abnormal_request", "internal_disagreement"]
    summary: NonBlank = _Short
    details: str = Field(default="", max_length=8000)
    product: str | None = Field(default=None, max_length=200)
    topic: Literal["abnormal_request", "drawing_change", "delivery_time", "bought_in_equipment",
                   "spare_parts"] | None = None
    units: list[str] = Field(default_factory=list, max_length=10)


class RaisedItemRead(RowRead):
    kind: str
    summary: str
    details: str
    subject: str
    status: str
    unit: str | None
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    raised_by: str
    raised_at: datetime


class TrainingMaterialCreate(StrictBody):
    code: NonBlank = Field(min_length=1, max_length=50)
    title: NonBlank = _Short
    approved: StrictBool = False


class TrainingMaterialRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    title: str
    approved: bool
    approved_by: str | None


class TrainingCreate(StrictBody):
    topics: list[Literal["use", "maintenance", "repair", "emergency"]] = Field(min_length=1, max_length=4)
    materials: list[str] = Field(min_length=1, max_length=50)
    attendees: list[str] = Field(min_length=1, max_length=200)
    demonstration: StrictBool
    evaluation_scores: list[Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=list, max_length=200, description="S31: the customer's evaluation forms (1-5)")
    evaluation_declined: StrictBool = Field(
        default=False, description="S31: the customer was asked for the evaluation form and declined")
    test_scores: list[Annotated[float, Field(ge=0, le=100)]] = Field(default_factory=list, max_length=200)
    delivered_at: IsoDateTime


class TrainingRead(RowRead):
    topics: list[str]
    materials: list[str]
    attendees: list[str]
    demonstration: bool
    evaluation_scores: list[int]
    evaluation_declined: bool = False
    test_scores: list[float]
    delivered_by: str
    delivered_at: datetime


class CustomerInformationCreate(StrictBody):
    kind: Literal["opinion", "suggestion", "business_lead"]
    text: NonBlank = _Long


class CustomerInformationRead(CustomerInformationCreate, RowRead):
    captured_by: str
    captured_at: datetime
