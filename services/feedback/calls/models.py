"""Follow-up call tables and their API shapes (S34)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.feedback.calls.domain import AttemptResult, CallReason
from shared.api.params import IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.db import timestamptz_column

__all__ = ["AttemptResult", "CallReason"]


class CallStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    UNREACHABLE = "unreachable"


class FollowUpCall(SQLModel, table=True):
    """S34: the call centre phones the customer to rate the service (or confirm a fix)."""

    __tablename__ = "follow_up_call"
    __table_args__ = (
        UniqueConstraint("case_id", "reason", "source_event_id", name="uq_follow_up_call_source"),
        Index("ix_follow_up_call_due", "status", "due_at"),
        Index("ix_follow_up_call_queue", "status", "priority", "due_at", "id"),
    )

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(index=True)
    reason: str = SQLField(sa_column=Column(String(32), nullable=False))
    source_event_id: UUID
    status: str = SQLField(default=CallStatus.SCHEDULED, sa_column=Column(String(32), nullable=False))
    due_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    customer_name: str
    region: str
    equipment_type: str
    engineer_ids: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    # When the service was completed (S30), for the time-to-call measure.
    completed_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    receipt_rating: int | None = None
    version: int = 1
    created_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    visit_id: UUID | None = None
    issue_id: UUID | None = None
    priority: int = 1
    claimed_by: str | None = SQLField(default=None, sa_column=Column(String(128)))
    claimed_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    lease_expires_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    attempts: int = 0
    unanswered_attempts: int = 0
    first_attempt_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    reached_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    outcome: str | None = SQLField(default=None, sa_column=Column(String(32)))
    outcome_note: str | None = SQLField(default=None, sa_column=Column(Text))
    closed_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    closed_by: str | None = SQLField(default=None, sa_column=Column(String(128)))
    updated_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    updated_by: str | None = SQLField(default=None, sa_column=Column(String(128)))


class FollowUpCallAttempt(SQLModel, table=True):
    """S34: one attempt to reach the customer, by an agent."""

    __tablename__ = "follow_up_call_attempt"
    __table_args__ = (UniqueConstraint("call_id", "number", name="uq_follow_up_call_attempt_number"),)

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    call_id: UUID = SQLField(foreign_key="follow_up_call.id", index=True)
    number: int
    result: str = SQLField(sa_column=Column(String(32), nullable=False))
    agent: str = SQLField(sa_column=Column(String(128), nullable=False))
    attempted_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    call_back_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    note: str | None = SQLField(default=None, sa_column=Column(Text))
    created_by: str = SQLField(sa_column=Column(String(128), nullable=False))


# --- API shapes ---------------------------------------------------------------------------------

AgentField = Field(default=None, min_length=1, max_length=128,
                   description="The agent the call-centre tool acts for (required for the tool; "
                               "a human agent's token names them)")


class ClaimCommand(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"agent": "agent-017"}]})
    agent: str | None = AgentField


class AttemptCreate(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"agent": "agent-017", "result": "no_answer"},
        {"agent": "agent-017", "result": "call_back", "call_back_at": "2026-12-01T07:30:00Z",
         "note": "in a meeting, call after 15:30 local time"},
        {"agent": "agent-017", "result": "reached"},
    ]})
    agent: str | None = AgentField
    result: AttemptResult
    call_back_at: IsoDateTime | None = Field(default=None, description="Required with result call_back")
    note: str | None = Field(default=None, max_length=2000)


class OutcomeCreate(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"agent": "agent-017", "outcome": "reached", "note": "survey completed, customer satisfied"},
        {"agent": "agent-017", "outcome": "declined", "note": "customer did not want to answer"},
    ]})
    agent: str | None = AgentField
    outcome: Literal["reached", "declined"]
    note: str | None = Field(default=None, max_length=2000)


class AttemptRead(RowRead):
    number: int
    result: AttemptResult
    agent: str
    attempted_at: datetime
    call_back_at: datetime | None
    note: str | None


class FollowUpCallRead(RowRead):
    """A follow-up call as the queue and the lists show it."""

    case_id: UUID
    reason: CallReason
    status: CallStatus
    priority: int
    due_at: datetime
    customer_name: str
    region: str
    equipment_type: str
    engineer_ids: list[str]
    visit_id: UUID | None
    issue_id: UUID | None
    completed_at: datetime | None = Field(description="When the service was completed (S30)")
    receipt_rating: int | None
    claimed_by: str | None = Field(description="The agent holding the lease, while it runs")
    lease_expires_at: datetime | None
    attempts: int
    outcome: Literal["reached", "unreachable", "declined"] | None
    closed_at: datetime | None
    version: int
    created_at: datetime


class ComplaintOnCall(BaseModel):
    complaint_id: UUID
    raised_at: datetime
    text: str
    issue_id: UUID | None = Field(description="The quality issue made of it, once quality logged it")
    issue_state: str | None


class FollowUpCallDetail(FollowUpCallRead):
    """One call with its attempts, survey responses and complaints (with their quality issue)."""

    attempts_made: list[AttemptRead] = Field(default_factory=list)
    survey_response_ids: list[UUID] = Field(default_factory=list)
    complaints: list[ComplaintOnCall] = Field(default_factory=list)
