"""The complaint table and its API shape."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Column, Float, String, Text
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.api.shapes import RowRead
from shared.db import timestamptz_column


class Complaint(SQLModel, table=True):
    """S34: a poor score or a complaint from a survey, sent to quality; linked to the issue it became."""

    __tablename__ = "complaint"

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(index=True)
    call_id: UUID | None = SQLField(default=None, foreign_key="follow_up_call.id", index=True)
    response_id: UUID | None = SQLField(default=None, foreign_key="survey_response.id")
    text: str = SQLField(sa_column=Column(Text, nullable=False))
    score: float | None = SQLField(default=None, sa_column=Column(Float))
    product: str | None = SQLField(default=None, sa_column=Column(String(128)))
    raised_by: str = SQLField(sa_column=Column(String(128), nullable=False))
    raised_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    issue_id: UUID | None = SQLField(default=None, index=True)
    issue_state: str | None = SQLField(default=None, sa_column=Column(String(32)))
    issue_updated_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))


class ComplaintRead(RowRead):
    case_id: UUID
    call_id: UUID | None
    response_id: UUID | None
    text: str
    score: float | None
    product: str | None
    raised_by: str
    raised_at: datetime
    issue_id: UUID | None
    issue_state: str | None
    issue_updated_at: datetime | None
