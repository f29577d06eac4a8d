"""Closing the visit: self/cross-check (S26), clean-up (S27), hand-over and repair take-back (S28),
drawing revisions (S29), result report and sign-off (S30), departure (S33)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool, model_validator
from sqlalchemy import Column, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.onsite.visits.models import OnVisit, Recorded
from services.onsite.work.models import Signature
from shared.api.params import IsoDate, IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz
from shared.messages import msg


class EngineerCheck(OnVisit, table=True):
    """S26: a self-check (checker = engineer) or a cross-check (checker = another team engineer)."""

    __tablename__ = "engineer_check"
    __table_args__ = (UniqueConstraint("visit_id", "engineer_id", "checker_id"),)

    engineer_id: str
    checker_id: str
    items: int
    findings: str | None = None
    checked_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class ClosingRecord(SQLModel, table=True):
    """S27-S29 of one visit: clean-up confirmation and the state of the technical documents."""

    __tablename__ = "closing_record"

    visit_id: UUID = SQLField(foreign_key="site_visit.id", primary_key=True)
    cleanup_confirmed_by: str | None = None
    cleanup_customer_confirmed_by: str | None = None
    cleanup_confirmed_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    handover_done_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    no_drawing_deviations: bool = False


class Handover(OnVisit, table=True):
    """S28: accessories and spare parts handed over, with the receiver's signature."""

    __tablename__ = "handover"

    items: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    received_by: str
    signature: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))
    handed_over_by: str
    handed_over_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class RepairTakeBack(OnVisit, table=True):
    """S28: damaged equipment taken back for repair; the receipt stays with the customer."""

    __tablename__ = "repair_take_back"

    receipt_number: str = SQLField(unique=True)
    equipment: str
    serial_number: str | None = None
    fault: str
    taken_by: str
    taken_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class DrawingRevision(OnVisit, Recorded, table=True):
    """S29: a drawing deviation, the original kept, tracked until sent to the company and mailed."""

    __tablename__ = "drawing_revision"

    drawing_number: str
    deviation: str
    original_kept_at: str
    sent_to_company_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    mailed_to_customer_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    tracking_number: str | None = None


class ServiceReport(SQLModel, table=True):
    """S30: the result report, the customer's ratings and the signed receipt."""

    __tablename__ = "service_report"

    visit_id: UUID = SQLField(foreign_key="site_visit.id", primary_key=True)
    work_done: str
    operating_advice: str
    unfinished_items: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    aspect_ratings: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    customer_comment: str | None = None
    receipt_signed_by: str
    receipt_signature: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))
    signed_off_by: str
    signed_off_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    # S30 integrity: the signed PDF's SHA-256 and the content it is rendered from (byte-identical every time).
    report_sha256: str | None = None
    report_snapshot: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSONB, nullable=True))


class Departure(OnVisit, table=True):
    """S33: one engineer's departure with the notifications and the site manager's agreement."""

    __tablename__ = "departure"
    __table_args__ = (UniqueConstraint("visit_id", "engineer_id"),)

    engineer_id: str
    departed_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    regional_centre_informed_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    department_head_informed_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    site_manager_agreed_by: str


# ---------------------------------------------------------------- API shapes

class CheckCreate(StrictBody):
    """S26: a self-check (engineer_id omitted or yourself) or a cross-check of another engineer."""

    engineer_id: NonBlank | None = Field(default=None, min_length=1, max_length=100)
    findings: str | None = Field(default=None, max_length=4000)


class CheckRead(RowRead):
    engineer_id: str
    checker_id: str
    items: int
    findings: str | None
    checked_at: datetime


class CleanupCreate(StrictBody):
    site_clean: StrictBool
    equipment_clean: StrictBool
    customer_confirmed_by: NonBlank = Field(min_length=1, max_length=200)


class HandoverItem(StrictBody):
    name: NonBlank = Field(min_length=1, max_length=200)
    kind: Literal["accessory", "spare_part", "tool", "document"]
    quantity: int = Field(ge=1, le=100_000)


class HandoverCreate(StrictBody):
    """S28: what was handed over (may be empty: nothing to hand over) and the receiver's signature."""

    items: list[HandoverItem] = Field(max_length=500)
    received_by: NonBlank = Field(min_length=1, max_length=200)
    signature: Signature


class HandoverRead(RowRead):
    items: list[HandoverItem]
    received_by: str
    handed_over_by: str
    handed_over_at: datetime


class RepairTakeBackCreate(StrictBody):
    receipt_number: NonBlank = Field(min_length=1, max_length=100)
    equipment: NonBlank = Field(min_length=1, max_length=200)
    serial_number: str | None = Field(default=None, max_length=100)
    fault: NonBlank = Field(min_length=1, max_length=4000)


class RepairTakeBackRead(RowRead):
    receipt_number: str
    equipment: str
    serial_number: str | None
    fault: str
    taken_by: str
    taken_at: datetime


class DrawingRevisionCreate(StrictBody):
    drawing_number: NonBlank = Field(min_length=1, max_length=100)
    deviation: NonBlank = Field(min_length=1, max_length=4000)
    original_kept_at: NonBlank = Field(min_length=1, max_length=300)


class DrawingRevisionRead(RowRead):
    drawing_number: str
    deviation: str
    original_kept_at: str
    recorded_at: datetime
    sent_to_company_at: datetime | None
    mailed_to_customer_at: datetime | None
    tracking_number: str | None


class DrawingsDispatch(StrictBody):
    """S29: revised drawings sent to the company's departments and mailed to the customer."""

    revision_ids: list[UUID] = Field(min_length=1, max_length=200)
    sent_to_company_at: IsoDateTime
    mailed_to_customer_at: IsoDateTime
    tracking_number: str | None = Field(default=None, max_length=100)


class UnfinishedItem(StrictBody):
    description: NonBlank = Field(min_length=1, max_length=1000)
    planned_date: IsoDate


class AspectScore(StrictBody):
    aspect: Literal["quality", "timeliness", "attitude", "skill", "communication", "cleanliness", "overall"]
    score: int = Field(ge=1, le=5)


class CompletionCreate(StrictBody):
    """S30: the result report, the customer's rating per aspect and the signed service receipt."""

    work_done: str = Field(default="Installation and commissioning as planned.", min_length=1, max_length=8000)
    operating_advice: str = Field(default="Operate per the manual.", min_length=1, max_length=8000)
    unfinished_items: list[UnfinishedItem] = Field(default_factory=list, max_length=100)
    aspect_ratings: list[AspectScore] = Field(default_factory=list, max_length=7)
    receipt_signed_by: NonBlank = Field(min_length=1, max_length=200)
    receipt_signature: Signature | None = None
    receipt_rating: int | None = Field(default=None, ge=1, le=5)
    receipt_comment: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _one_score_per_aspect(self) -> CompletionCreate:
        aspects = [a.aspect for a in self.aspect_ratings]
        if len(aspects) != len(set(aspects)):
            raise ValueError(msg("each aspect is rated once"))
        return self


class DepartureCreate(StrictBody):
    """S33: the regional centre and department head informed, the site manager agrees."""

    departed_at: IsoDateTime
    regional_centre_informed_at: IsoDateTime | None = None
    department_head_informed_at: IsoDateTime | None = None
    site_manager_agreed_by: str | None = Field(default=None, max_length=200)


class DepartureRead(RowRead):
    engineer_id: str
    departed_at: datetime
    regional_centre_informed_at: datetime
    department_head_informed_at: datetime
    site_manager_agreed_by: str


class ClosingStatus(BaseModel):
    """What the S30 completion gate still needs (empty when it would pass)."""

    missing_conditions: list[str]


class ReportVerification(BaseModel):
    """S30: whether a PDF is the service report the customer signed (its SHA-256 against the recorded one)."""

    matches: bool = Field(description="True when the PDF's SHA-256 is the one recorded with the signed receipt")
    sha256: str = Field(description="SHA-256 of the PDF sent")
    signed_sha256: str | None = Field(description="SHA-256 recorded with the signed receipt (null: not signed)")
    signed_at: datetime | None = Field(description="When the receipt was signed")
