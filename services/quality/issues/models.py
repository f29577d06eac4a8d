"""Quality issue tables and their API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.events.quality import Severity


class IssueStatus(StrEnum):
    LOGGED = "logged"


def _tz() -> Any:
    return DateTime(timezone=True)


class CaseTeam(SQLModel, table=True):
    """Who works on a case (from ServiceDispatched): engineers log issues only on their cases."""

    __tablename__ = "case_team"

    case_id: UUID = SQLField(primary_key=True)
    engineer_ids: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    region: str


class QualityIssue(SQLModel, table=True):
    """A product quality problem found on site (S25) or raised by a complaint (S34)."""

    __tablename__ = "quality_issue"
    __table_args__ = (Index("ix_quality_issue_case", "case_id", "created_at"),)

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
    status: str = SQLField(default=IssueStatus.LOGGED, sa_column=Column(String(32), nullable=False))
    logged_by: str
    version: int = 1
    created_at: datetime = SQLField(sa_column=Column(_tz(), nullable=False))
    updated_at: datetime = SQLField(sa_column=Column(_tz(), nullable=False))
    updated_by: str


class QualityIssueCreate(BaseModel):
    """S25: register the problem first."""

    model_config = ConfigDict(extra="forbid")
    case_id: UUID
    visit_id: UUID | None = None
    product: str = Field(min_length=1, max_length=200)
    model: str | None = Field(default=None, max_length=100)
    serial_number: str | None = Field(default=None, max_length=100)
    failure_mode: str = Field(min_length=1, max_length=100)
    severity: Severity
    description: str = Field(min_length=1, max_length=8000)


class QualityIssueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    case_id: UUID
    visit_id: UUID | None
    product: str
    model: str | None
    serial_number: str | None
    failure_mode: str
    severity: Severity
    description: str
    source: str
    status: IssueStatus
    logged_by: str
    version: int
    created_at: datetime
    updated_at: datetime
