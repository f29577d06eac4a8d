"""Work on site: briefing (S9), permits (S11), tasks by the ticket (S12, S13), safety (S14),
process data and milestones (S13) and the customer's witness (S17)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import Field, StrictBool, model_validator
from sqlalchemy import Column, Date, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField

from services.onsite.reported_times import OccurredAt
from services.onsite.visits.models import OnVisit, Recorded
from shared.api.params import IsoDate, IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import Versioned, timestamptz
from shared.events.dispatch import CheckSheetItem
from shared.messages import msg


def _json(nullable: bool = False) -> Any:
    return Column(JSONB, nullable=nullable)


# ---------------------------------------------------------------- tables

class TechnicalBriefing(OnVisit, table=True):
    """S9: what the customer was told before work started."""

    __tablename__ = "technical_briefing"

    held_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    held_by: str
    content: dict[str, Any] = SQLField(sa_column=_json())
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class DisputeStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    SETTLED = "settled"


class BriefingDispute(OnVisit, table=True):
    """S9: a disputed point of the briefing: open, not blocking, escalatable."""

    __tablename__ = "briefing_dispute"

    briefing_id: UUID = SQLField(foreign_key="technical_briefing.id")
    point: str
    status: str = SQLField(default=DisputeStatus.OPEN, sa_column=Column(String(16), nullable=False))
    escalated_to: str | None = None
    escalated_by: str | None = None
    escalated_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))


class WorkPermit(OnVisit, table=True):
    """S11: a customer site work permit with its scope and validity."""

    __tablename__ = "work_permit"

    number: str
    issued_by: str
    scope: list[str] = SQLField(sa_column=_json())
    valid_from: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    valid_to: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    created_by: str
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class TaskStatus(StrEnum):
    PLANNED = "planned"
    STARTED = "started"
    DONE = "done"


class SiteTask(OnVisit, Versioned, table=True):
    """S12/S13: one task of the site work plan, following a dispatched check sheet (or a plan step)."""

    __tablename__ = "site_task"

    title: str
    sheet_id: str | None = None
    plan_step: int | None = None
    permit_scope: str
    items: list[dict[str, Any]] = SQLField(sa_column=_json())
    live_hv: bool = False
    primary_test: bool = False
    planned_start: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    planned_end: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    progress_percent: int = 0
    status: str = SQLField(default=TaskStatus.PLANNED, sa_column=Column(String(16), nullable=False))
    started_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    started_by: str | None = None
    # when the task was done (the client's time of the act), and when the server received it
    done_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    done_recorded_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    done_by: str | None = None


class SafetyChecklist(OnVisit, table=True):
    """S14: the safety checklist of one task on one day."""

    __tablename__ = "safety_checklist"
    __table_args__ = (UniqueConstraint("task_id", "day"),)

    task_id: UUID = SQLField(foreign_key="site_task.id")
    day: date = SQLField(sa_column=Column(Date, nullable=False))
    answers: dict[str, Any] = SQLField(sa_column=_json())
    missing: list[str] = SQLField(sa_column=_json())
    checked_by: str
    checked_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    occurred_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))  # the check, on site


class ProcessDataRecord(OnVisit, Recorded, table=True):
    """S13: the value recorded for one check-sheet item of a task (the latest one counts)."""

    __tablename__ = "process_data_record"
    __table_args__ = (UniqueConstraint("task_id", "item_id"),)

    task_id: UUID = SQLField(foreign_key="site_task.id")
    item_id: str
    value: Any = SQLField(sa_column=_json(nullable=True))
    unit: str | None = None
    passed: bool
    requires_witness: bool = False
    requires_photo: bool = False
    occurred_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))  # the measurement
    signed_off_by: str | None = None
    signed_off_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    # S25: a failed value is signed off only with a disposition (remeasured | issue | concession).
    disposition: str | None = SQLField(default=None, sa_column=Column(String(16)))
    issue_id: UUID | None = None
    concession_reason: str | None = None
    concession_witness_id: UUID | None = None
    disposed_by: str | None = None
    disposed_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))


class ProcessDataReading(Recorded, table=True):
    """S13: every reading of an entry, in order: a re-measurement never overwrites a failed one."""

    __tablename__ = "process_data_reading"

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    record_id: UUID = SQLField(foreign_key="process_data_record.id", index=True)
    visit_id: UUID = SQLField(foreign_key="site_visit.id", index=True)
    value: Any = SQLField(sa_column=_json(nullable=True))
    unit: str | None = None
    passed: bool
    occurred_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))  # the measurement


class Milestone(OnVisit, table=True):
    """S13: a milestone of the work; signed off with its witness when one is required (S17)."""

    __tablename__ = "milestone"

    task_id: UUID | None = SQLField(default=None, foreign_key="site_task.id")
    title: str
    requires_witness: bool = False
    created_by: str
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    reached_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    signed_off_by: str | None = None


class WitnessRecord(OnVisit, Recorded, table=True):
    """S17: the customer's (or a third party's) witness on a record."""

    __tablename__ = "witness_record"

    subject_kind: str
    subject_id: UUID = SQLField(index=True)
    name: str
    role: str
    signature_kind: str
    typed_name: str | None = None
    signature_evidence_id: UUID | None = None
    signed_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


# ---------------------------------------------------------------- API shapes

_Text = Field(default="", max_length=4000)
_Points: list[str] = Field(default_factory=list, max_length=50)


class BriefingCreate(StrictBody):
    """S9: the briefing's content; disputed points are kept open and may be escalated."""

    held_at: IsoDateTime
    content: NonBlank = Field(min_length=1, max_length=8000)
    scope: NonBlank = Field(min_length=1, max_length=4000)
    equipment_and_interface_persons: str = _Text
    risk_points: list[str] = _Points
    goals: list[str] = _Points
    company_commitments: list[str] = _Points
    control_requirements: list[str] = _Points
    schedule: str = _Text
    missing_parts: list[str] = _Points
    missing_documents: list[str] = _Points
    disputed_points: list[str] = Field(default_factory=list, max_length=50)
    customer_attendees: list[NonBlank] = Field(
        min_length=1, max_length=50, description="S9: the customer's people who were briefed (name and role)")


class DisputeRead(RowRead):
    briefing_id: UUID
    point: str
    status: DisputeStatus
    escalated_to: str | None
    escalated_at: datetime | None


class BriefingRead(RowRead):
    held_at: datetime
    held_by: str
    content: dict[str, Any]
    disputes: list[DisputeRead] = []


class DisputeEscalation(StrictBody):
    escalated_to: Literal["unit_leadership", "regional_centre"]


class PermitCreate(StrictBody):
    """S11: scope lists the check sheets (or task scopes) the permit covers; `all` covers every task."""

    number: NonBlank = Field(min_length=1, max_length=100)
    issued_by: NonBlank = Field(min_length=1, max_length=200)
    scope: list[str] = Field(min_length=1, max_length=100)
    valid_from: IsoDateTime
    valid_to: IsoDateTime

    @model_validator(mode="after")
    def _ordered(self) -> PermitCreate:
        if self.valid_to <= self.valid_from:
            raise ValueError(msg("valid_to must be after valid_from"))
        return self


class PermitRead(RowRead):
    number: str
    issued_by: str
    scope: list[str]
    valid_from: datetime
    valid_to: datetime


class TaskCreate(StrictBody):
    """S12: a task of the site work plan added from the briefing."""

    title: NonBlank = Field(min_length=1, max_length=300)
    permit_scope: NonBlank = Field(min_length=1, max_length=200)
    live_hv: StrictBool = False
    primary_test: StrictBool = False
    planned_start: IsoDateTime | None = None
    planned_end: IsoDateTime | None = None


class TaskProgress(StrictBody):
    """S12: progress against the plan (and a new planned end, if it moved)."""

    progress_percent: int = Field(ge=0, le=100)
    planned_end: IsoDateTime | None = None
    reason: str | None = Field(default=None, max_length=2000)


class TaskDone(StrictBody):
    """S13: the task is done (the body is optional: without it, done when the server receives it)."""

    occurred_at: OccurredAt = None


class TaskRead(RowRead):
    title: str
    sheet_id: str | None
    permit_scope: str
    items: list[CheckSheetItem]
    live_hv: bool
    primary_test: bool
    planned_start: datetime | None
    planned_end: datetime | None
    progress_percent: int
    status: TaskStatus
    started_at: datetime | None
    started_by: str | None
    done_at: datetime | None
    done_recorded_at: datetime | None = None
    version: int


class SafetyChecklistCreate(StrictBody):
    """S14: today's safety checklist of a task."""

    day: IsoDate
    ppe: StrictBool = False
    helmet: StrictBool = False
    insulated_gloves: StrictBool = False
    insulated_tools: StrictBool = False
    gloves_test_valid_until: IsoDate | None = Field(default=None, description="S14: the insulated gloves' test date")
    tools_test_valid_until: IsoDate | None = Field(default=None, description="S14: the insulated tools' test date")
    barriers: StrictBool = False
    safety_watcher: str | None = Field(default=None, max_length=200)
    occurred_at: OccurredAt = None


class SafetyChecklistRead(RowRead):
    task_id: UUID
    day: date
    answers: dict[str, Any]
    missing: list[str]
    checked_by: str
    checked_at: datetime
    occurred_at: datetime


class ProcessDataCreate(StrictBody):
    """S13: a check-sheet value; a unit is required where the item has one."""

    value: StrictBool | float | str = Field(union_mode="left_to_right")
    unit: str | None = Field(default=None, max_length=30)
    occurred_at: OccurredAt = None

    @model_validator(mode="after")
    def _short(self) -> ProcessDataCreate:
        if isinstance(self.value, str) and len(self.value) > 2000:
            raise ValueError(msg("value is too long (at most 2000 characters)"))
        return self


class ProcessDataRead(RowRead):
    task_id: UUID
    item_id: str
    value: Any
    unit: str | None
    passed: bool
    requires_witness: bool
    requires_photo: bool
    recorded_by: str
    recorded_at: datetime
    occurred_at: datetime
    signed_off_by: str | None
    signed_off_at: datetime | None
    disposition: str | None = None
    issue_id: UUID | None = None
    concession_reason: str | None = None
    concession_witness_id: UUID | None = None


class ReadingRead(RowRead):
    """S13: one reading of an entry (the history: failed readings are kept)."""

    value: Any
    unit: str | None
    passed: bool
    recorded_by: str
    recorded_at: datetime
    occurred_at: datetime


class MilestoneCreate(StrictBody):
    title: NonBlank = Field(min_length=1, max_length=300)
    task_id: UUID | None = None
    requires_witness: StrictBool = False


class MilestoneRead(RowRead):
    task_id: UUID | None
    title: str
    requires_witness: bool
    reached_at: datetime | None
    signed_off_by: str | None


class Signature(StrictBody):
    """S17: a typed name with the time, or an uploaded image (evidence id)."""

    kind: Literal["typed", "image"]
    typed_name: str | None = Field(default=None, max_length=200)
    evidence_id: UUID | None = None
    signed_at: IsoDateTime

    @model_validator(mode="after")
    def _complete(self) -> Signature:
        if self.kind == "typed" and not (self.typed_name or "").strip():
            raise ValueError(msg("a typed signature needs the typed name"))
        if self.kind == "image" and self.evidence_id is None:
            raise ValueError(msg("an image signature needs the evidence id of the uploaded image"))
        return self


class WitnessCreate(StrictBody):
    subject_kind: Literal["process_data", "milestone"]
    subject_id: UUID
    name: NonBlank = Field(min_length=1, max_length=200)
    role: NonBlank = Field(min_length=1, max_length=200)
    signature: Signature


class WitnessRead(RowRead):
    subject_kind: str
    subject_id: UUID
    name: str
    role: str
    signature_kind: str
    typed_name: str | None
    signature_evidence_id: UUID | None
    signed_at: datetime


class CustomerWitness(StrictBody):
    """S17: the customer's witness signing a concession."""

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    role: str = Field(min_length=1, max_length=200, pattern=r"\S")
    signature: Signature


class DispositionCreate(StrictBody):
    """S25: what happens to a failed value: a linked logged issue, or the customer's signed concession.

    (Re-measuring within limits needs no call: record the new value; the failed one stays in the history.)
    """

    kind: Literal["issue", "concession"]
    issue_id: UUID | None = None
    reason: str | None = Field(default=None, max_length=2000)
    customer_witness: CustomerWitness | None = None

    @model_validator(mode="after")
    def _complete(self) -> DispositionCreate:
        if self.kind == "issue" and self.issue_id is None:
            raise ValueError(msg("a disposition by an issue needs issue_id (the logged S25 issue)"))
        if self.kind == "concession":
            if not (self.reason or "").strip():
                raise ValueError(msg("a concession needs its reason"))
            if self.customer_witness is None:
                raise ValueError(msg("a concession needs the customer's witness (name, role, signature)"))
        return self
