"""S2: the dispatcher's call with the customer about the service conditions, and postponements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Column, Date, DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

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


class SpecialRequirements(BaseModel):
    model_config = ConfigDict(extra="forbid")
    local_government: str = Field(default="", max_length=2000)
    project_management: str = Field(default="", max_length=2000)
    other_parties: str = Field(default="", max_length=2000)


class ConfirmedConditions(BaseModel):
    """What the customer and the dispatcher agreed (S2)."""

    model_config = ConfigDict(extra="forbid")
    site_address: str = Field(min_length=1, max_length=500)
    site_environment: str = Field(min_length=1, max_length=4000)
    work_content: str = Field(min_length=1, max_length=4000)
    required_arrival: AwareDatetime
    customer_preparation: list[str] = Field(default_factory=list, max_length=100)
    company_preparation: list[str] = Field(default_factory=list, max_length=100)
    special_requirements: SpecialRequirements = Field(default_factory=SpecialRequirements)
    customer_deadline: AwareDatetime | None = None


class ConditionCallCreate(BaseModel):
    """S2: record the call. `confirmed` needs `conditions`; `postponed` needs a reason and a new date."""

    model_config = ConfigDict(extra="forbid")
    outcome: CallOutcome
    called_at: AwareDatetime
    conditions: ConfirmedConditions | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=2000)
    new_date: date | None = None

    @model_validator(mode="after")
    def _complete(self) -> ConditionCallCreate:
        now = datetime.now(UTC)
        if self.called_at > now:
            raise ValueError("called_at: a call cannot be recorded before it happened")
        if self.outcome == "confirmed":
            if self.conditions is None:
                raise ValueError("conditions: required when the outcome is confirmed")
            if self.conditions.required_arrival < now:
                raise ValueError("conditions.required_arrival: must not be in the past")
        else:
            if not self.reason:
                raise ValueError("reason: required when the outcome is postponed")
            if self.new_date is None:
                raise ValueError("new_date: required when the outcome is postponed")
            if self.new_date < now.date():
                raise ValueError("new_date: must not be in the past")
        return self


class ConditionCallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
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
