"""S3 staffing: the versioned staffing policy, engineer assignments and S12 staffing requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator
from sqlalchemy import Column, DateTime, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.dispatch.cases.models import Level
from shared.api.params import IsoDateTime, period_end
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.messages import msg


class StaffingPolicy(SQLModel, table=True):
    """One version of the rule table (versions are never changed, a new one supersedes)."""

    __tablename__ = "staffing_policy"

    version: int = SQLField(primary_key=True)
    rules: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    required_certificates: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    note: str = ""
    created_by: str
    # always set on a stored version; none on the built-in table (version 0, never stored)
    created_at: datetime | None = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))


class EngineerAssignment(SQLModel, table=True):
    """An engineer on a case's team for its planned window (what double-booking is checked against)."""

    __tablename__ = "engineer_assignment"
    __table_args__ = (Index("ix_engineer_assignment_engineer", "engineer_id", "planned_start"),
                      Index("ix_engineer_assignment_case", "case_id"),
                      # the engineer filter of case search: an engineer's current cases
                      Index("ix_engineer_assignment_current", "engineer_id", "case_id",
                            postgresql_where=text("released_at IS NULL")))

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(foreign_key="service_case.id")
    engineer_id: str = SQLField(sa_column=Column(String(64), nullable=False))
    is_project_manager: bool = False
    planned_start: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    planned_end: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    released_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    created_by: str
    created_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))


class StaffingRequest(SQLModel, table=True):
    """S12: onsite reported the customer's deadline at risk and asked for more engineers."""

    __tablename__ = "staffing_request"

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(foreign_key="service_case.id", index=True)
    risk_id: UUID = SQLField(unique=True)
    engineers_requested: int
    reason: str
    customer_deadline: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = SQLField(default="open", sa_column=Column(String(16), nullable=False))
    requested_by: str
    created_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    fulfilled_by: str | None = None
    fulfilled_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))


class StaffingRule(StrictBody):
    urgency: Level
    difficulty: Level
    customer_importance: Level
    min_grade: int = Field(ge=1, le=5)
    head_count: int = Field(ge=1, le=20)
    project_manager_min_grade: int = Field(default=0, ge=0, le=5,
                                           description="S3: the project manager's minimum grade (teams of two or more)")
    project_manager_certificates: list[NonBlank] = Field(
        default_factory=list, max_length=10, description="S3: certificates the project manager holds, valid to the end")


class CertificateRequirement(StrictBody):
    """Every engineer on a case of this equipment type needs this certificate, valid on the planned dates."""

    equipment_type: NonBlank = Field(min_length=1, max_length=100)
    certificate_type: NonBlank = Field(min_length=1, max_length=64)


class StaffingPolicyWrite(StrictBody):
    """A new version of the rule table (send the current ETag as If-Match)."""

    rules: list[StaffingRule] = Field(min_length=1, max_length=27)
    required_certificates: list[CertificateRequirement] = Field(default_factory=list, max_length=200)
    note: str = Field(default="", max_length=1000)

    @field_validator("rules")
    @classmethod
    def _unique(cls, value: list[StaffingRule]) -> list[StaffingRule]:
        keys = [(r.urgency, r.difficulty, r.customer_importance) for r in value]
        if len(keys) != len(set(keys)):
            raise ValueError(msg("each urgency x difficulty x customer_importance appears at most once"))
        return value


class StaffingPolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    rules: list[StaffingRule]
    required_certificates: list[CertificateRequirement]
    note: str
    created_by: str
    created_at: datetime | None


class TeamChoice(StrictBody):
    engineer_id: NonBlank = Field(min_length=1, max_length=64)
    is_project_manager: StrictBool = False


class AssignEngineers(StrictBody):
    """S3: the team and its planned window on site."""

    engineers: list[TeamChoice] = Field(min_length=1, max_length=50)
    planned_start: IsoDateTime
    planned_end: IsoDateTime

    @field_validator("planned_end")
    @classmethod
    def _window(cls, value: datetime, info: ValidationInfo) -> datetime:
        return period_end(value, info.data.get("planned_start"), "planned_start", not_past=True)


class AddStaff(StrictBody):
    """S12: engineers added to the team under the same rules."""

    engineers: list[TeamChoice] = Field(min_length=1, max_length=20)


class StaffingRequestRead(RowRead):
    case_id: UUID
    risk_id: UUID
    engineers_requested: int
    reason: str
    customer_deadline: datetime
    status: str
    requested_by: str
    created_at: datetime
    fulfilled_by: str | None
    fulfilled_at: datetime | None
