"""Follow-up call tables and their API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, DateTime, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel


class CallStatus(StrEnum):
    SCHEDULED = "scheduled"


class CallReason(StrEnum):
    SERVICE_COMPLETED = "service_completed"
    ISSUE_CLOSED = "issue_closed"


def _tz() -> Any:
    return DateTime(timezone=True)


class FollowUpCall(SQLModel, table=True):
    """S34: the call centre phones the customer to rate the service (or confirm a fix)."""

    __tablename__ = "follow_up_call"
    __table_args__ = (
        UniqueConstraint("case_id", "reason", "source_event_id", name="uq_follow_up_call_source"),
        Index("ix_follow_up_call_due", "status", "due_at"),
    )

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(index=True)
    reason: str = SQLField(sa_column=Column(String(32), nullable=False))
    source_event_id: UUID
    status: str = SQLField(default=CallStatus.SCHEDULED, sa_column=Column(String(32), nullable=False))
    due_at: datetime = SQLField(sa_column=Column(_tz(), nullable=False))
    customer_name: str
    region: str
    equipment_type: str
    engineer_ids: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    completed_at: datetime | None = SQLField(default=None, sa_column=Column(_tz()))
    receipt_rating: int | None = None
    version: int = 1
    created_at: datetime = SQLField(sa_column=Column(_tz(), nullable=False))


class FollowUpCallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    case_id: UUID
    reason: CallReason
    status: CallStatus
    due_at: datetime
    customer_name: str
    region: str
    equipment_type: str
    engineer_ids: list[str]
    completed_at: datetime | None
    receipt_rating: int | None
    version: int
    created_at: datetime
