"""Quality issue tables (issue, its journal, the case teams) and their API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, Field, StrictBool, model_validator
from sqlalchemy import Column, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.quality.issues.domain import IssueStatus
from services.quality.sla.domain import ClockState
from shared.api.params import IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import Versioned, timestamptz_column
from shared.events.quality import Severity
from shared.messages import msg


class CaseTeam(SQLModel, table=True):
    """Who works on a case (from ServiceDispatched): engineers log issues only on their cases."""

    __tablename__ = "case_team"

    case_id: UUID = SQLField(primary_key=True)
    engineer_ids: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    region: str
    customer_name: str | None = None


class QualityIssue(Versioned, table=True):
    """A product quality problem found on site (S25) or raised by a complaint (S34). Never deleted.

    `loop` holds the current record of each closed-loop stage (containment, root_cause,
    corrective_action, preventive_action, verification); every change is also a journal entry.
    """

    __tablename__ = "quality_issue"
    __table_args__ = (
        Index("ix_quality_issue_case", "case_id", "created_at"),
        Index("ix_quality_issue_created", "created_at", "id"),
        Index("ix_quality_issue_complaint", "complaint_id", unique=True),
        Index("ix_quality_issue_measurement", "measurement_ref", unique=True),
    )

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID
    visit_id: UUID | None = None
    product: str
    model: str | None = None
    serial_number: str | None = None
    failure_mode: str
    severity: str
    description: str
    source: str = "onsite"
    complaint_id: UUID | None = None
    # S13/S25: `visit/task/item` of a failed on-site measurement this issue registers (one issue per entry).
    measurement_ref: str | None = SQLField(default=None, max_length=300)
    customer_visible: bool = True
    status: str = SQLField(default=IssueStatus.LOGGED, sa_column=Column(String(32), nullable=False))
    logged_by: str
    responsible_unit: str | None = None
    owner: str | None = None
    on_site_resolution: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSONB, nullable=True))
    loop: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    template_revision: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSONB, nullable=True))
    closed_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    closed_by: str | None = None
    # SLA clocks (S25 rapid handling): targets snapshot at logging, deadlines move with pauses.
    response_target_minutes: int = 0
    resolution_target_minutes: int = 0
    sla_warning_percent: int = 80
    sla_paused_seconds: int = 0
    sla_paused_since: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    response_due_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    resolution_due_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    responded_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    response_warned_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    response_breached_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    resolution_warned_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    resolution_breached_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))


class OnIssue(SQLModel):
    """A row kept on one issue: its own id and the issue's."""

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    issue_id: UUID = SQLField(foreign_key="quality_issue.id")


class IssueJournalEntry(OnIssue, table=True):
    """One entry of an issue's history: every transition, correction and SLA fact (append only)."""

    __tablename__ = "issue_journal_entry"
    __table_args__ = (Index("ix_issue_journal_issue", "issue_id", "at"),)

    kind: str = SQLField(max_length=64)
    data: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    by: str


# ---- API shapes -------------------------------------------------------------------------------

Text = Field(min_length=1, max_length=4000)
Name = Field(min_length=1, max_length=200)


class QualityIssueCreate(StrictBody):
    """S25: register the problem first."""

    case_id: UUID
    visit_id: UUID | None = None
    product: NonBlank = Field(min_length=1, max_length=200)
    model: str | None = Field(default=None, max_length=100)
    serial_number: str | None = Field(default=None, max_length=100)
    failure_mode: NonBlank = Field(min_length=1, max_length=100)
    severity: Severity
    description: NonBlank = Field(min_length=1, max_length=8000)
    customer_visible: StrictBool = True


CorrectableField = Literal["product", "model", "serial_number", "failure_mode", "severity", "description"]


class IssueCorrection(StrictBody):
    """A correction is a new journal entry; the old value stays in the history."""

    field: CorrectableField
    value: NonBlank = Field(min_length=1, max_length=8000)
    reason: NonBlank = Field(min_length=1, max_length=2000)


class OnSiteResolution(StrictBody):
    """S25: fixed on site — what was done, by whom, confirmed by the customer."""

    resolution: NonBlank = Text
    resolved_by: NonBlank = Name
    customer_confirmed_by: NonBlank = Name
    confirmed_at: IsoDateTime | None = None


class Escalation(StrictBody):
    """S25: sent to the company's closed-loop rapid handling."""

    responsible_unit: NonBlank = Field(min_length=1, max_length=100)
    owner: NonBlank = Field(min_length=1, max_length=200)


class Containment(StrictBody):
    action: NonBlank = Text
    owner: NonBlank | None = Field(default=None, min_length=1, max_length=200)


Cause = Annotated[NonBlank, Field(max_length=2000)]


class RootCause(StrictBody):
    """Root cause by 5 whys (the chain of whys) or fishbone (causes by category)."""

    method: Literal["five_whys", "fishbone"]
    root_cause: NonBlank = Text
    whys: list[Cause] | None = Field(default=None, max_length=10)
    categories: dict[Literal["man", "machine", "method", "material", "measurement", "environment"],
                     Annotated[list[Cause], Field(max_length=20)]] | None = None
    owner: NonBlank | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _method_fields(self) -> RootCause:
        if self.method == "five_whys":
            if not self.whys:
                raise ValueError(msg("method five_whys needs 'whys': the chain of whys (1-10 answers)"))
            if self.categories is not None:
                raise ValueError(msg("'categories' belong to method fishbone"))
        else:
            if not self.categories or not any(self.categories.values()):
                raise ValueError(msg("method fishbone needs 'categories': causes under at least one category"))
            if self.whys is not None:
                raise ValueError(msg("'whys' belong to method five_whys"))
        return self


class CorrectiveAction(StrictBody):
    action: NonBlank = Text
    owner: NonBlank = Name
    due_at: IsoDateTime | None = None


class PreventiveAction(StrictBody):
    """What prevents recurrence; may name a specification template for dispatch to revise."""

    action: NonBlank = Text
    owner: NonBlank = Name
    template_id: NonBlank | None = Field(default=None, min_length=1, max_length=100)
    equipment_type: NonBlank | None = Field(default=None, min_length=1, max_length=100)
    revision_note: str | None = Field(default=None, max_length=2000)


class Verification(StrictBody):
    evidence: NonBlank = Text
    effective: StrictBool
    owner: NonBlank | None = Field(default=None, min_length=1, max_length=200)


class Closure(StrictBody):
    summary: str | None = Field(default=None, max_length=4000)


class Reopen(StrictBody):
    reason: NonBlank = Field(min_length=1, max_length=2000)


class SlaClockRead(BaseModel):
    due_at: datetime | None
    state: ClockState
    warned_at: datetime | None
    breached_at: datetime | None


class SlaRead(BaseModel):
    paused: bool
    paused_since: datetime | None
    response: SlaClockRead
    resolution: SlaClockRead


class QualityIssueRead(RowRead):
    case_id: UUID
    visit_id: UUID | None
    product: str
    model: str | None
    serial_number: str | None
    failure_mode: str
    severity: Severity
    description: str
    source: str
    complaint_id: UUID | None = None
    measurement_ref: str | None = None
    customer_visible: bool = True
    status: IssueStatus
    logged_by: str
    responsible_unit: str | None = None
    owner: str | None = None
    on_site_resolution: dict[str, Any] | None = None
    loop: dict[str, Any] = Field(default_factory=dict)
    template_revision: dict[str, Any] | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    sla: SlaRead | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class JournalEntryRead(RowRead):
    kind: str
    data: dict[str, Any]
    at: datetime
    by: str
