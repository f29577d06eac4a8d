"""S2: the dispatcher's call with the customer about the service conditions, and postponements."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from sqlalchemy import Column, Date, DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.api.params import IsoDate, IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.clock import utcnow
from shared.messages import msg

CallOutcome = Literal["confirmed", "postponed"]


class ConditionCall(SQLModel, table=True):
    """One S2 call: what was agreed, or why not and until when (a postponement)."""

    __tablename__ = "condition_call"
    __table_args__ = (Index("ix_condition_call_case", "case_id", "called_at"),
                      Index("ix_condition_call_due", "outcome", "new_date"))

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(foreign_key="service_case.id")
    outcome: str = SQLField(sa_column=Column(String(16), nullable=False))
    called_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    details: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))
    reason: str | None = None
    new_date: date | None = SQLField(default=None, sa_column=Column(Date))
    due_notified_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    recorded_by: str
    created_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))


class SpecialRequirements(StrictBody):
    local_government: str = Field(default="", max_length=2000)
    project_management: str = Field(default="", max_length=2000)
    other_parties: str = Field(default="", max_length=2000)


class ConfirmedConditions(StrictBody):
    """What the customer and the dispatcher agreed (S2)."""

    site_address: NonBlank = Field(min_length=1, max_length=500)
    site_environment: NonBlank = Field(min_length=1, max_length=4000)
    work_content: NonBlank = Field(min_length=1, max_length=4000)
    required_arrival: IsoDateTime
    customer_preparation: list[str] = Field(default_factory=list, max_length=100)
    company_preparation: list[str] = Field(default_factory=list, max_length=100)
    special_requirements: SpecialRequirements = Field(default_factory=SpecialRequirements)
    customer_deadline: IsoDateTime | None = None


class ConditionCallCreate(StrictBody):
    """S2: record the call. `confirmed` needs `conditions`; `postponed` needs a reason and a new date.

    Each rule is checked on its own field, so a 422 names the field that is wrong."""

    outcome: CallOutcome
    called_at: IsoDateTime
    conditions: ConfirmedConditions | None = Field(default=None, validate_default=True)
    reason: NonBlank | None = Field(default=None, min_length=1, max_length=2000, validate_default=True)
    new_date: IsoDate | None = Field(default=None, validate_default=True)

    @field_validator("called_at")
    @classmethod
    def _happened(cls, value: datetime) -> datetime:
        if value > utcnow() + timedelta(minutes=5):
            raise ValueError(msg("a call cannot be recorded before it happened"))
        return value

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, value: ConfirmedConditions | None, info: ValidationInfo) -> ConfirmedConditions | None:
        if info.data.get("outcome") == "confirmed":
            if value is None:
                raise ValueError(msg("required when the outcome is confirmed"))
            if value.required_arrival < utcnow():
                raise ValueError(msg("required_arrival must not be in the past"))
        return value

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("outcome") == "postponed" and not value:
            raise ValueError(msg("required when the outcome is postponed"))
        return value

    @field_validator("new_date")
    @classmethod
    def _new_date(cls, value: date | None, info: ValidationInfo) -> date | None:
        if info.data.get("outcome") == "postponed":
            if value is None:
                raise ValueError(msg("required when the outcome is postponed"))
            if value < utcnow().date():
                raise ValueError(msg("must not be in the past"))
        return value


class ConditionCallRead(RowRead):
    case_id: UUID
    outcome: CallOutcome
    called_at: datetime
    details: dict[str, Any]
    reason: str | None
    new_date: date | None
    due_notified_at: datetime | None
    recorded_by: str
    created_at: datetime


class DuePostponement(BaseModel):
    case_id: UUID
    call_id: UUID
    customer_name: str
    reason: str
    postponed_until: date
    recorded_by: str
    due_notified_at: datetime | None
