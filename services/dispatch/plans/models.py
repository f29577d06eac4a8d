"""S4: the service plan (work steps, operations and how, goals, risk-prevention measures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import Field
from sqlalchemy import Column, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField

from services.dispatch.plans.domain import PlanStatus
from shared.api.concurrency import VersionedRead
from shared.api.shapes import StrictBody
from shared.api.text import NonBlank
from shared.db import Versioned


class ServicePlan(Versioned, table=True):
    """One revision of a case's service plan; the newest approved revision is handed over at dispatch."""

    __tablename__ = "service_plan"
    __table_args__ = (UniqueConstraint("case_id", "revision"),)

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(foreign_key="service_case.id", index=True)
    revision: int
    status: str = SQLField(default=PlanStatus.DRAFT, sa_column=Column(String(16), nullable=False))
    goals: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    steps: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    risk_measures: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    # S6: what the plan asks to prepare (beyond the standard's categories); S16: how often to report.
    preparation_items: list[str] = SQLField(default_factory=list,
                                            sa_column=Column(JSONB, nullable=False, server_default="[]"))
    report_period_days: int = SQLField(default=7, sa_column=Column(Integer, nullable=False, server_default="7"))
    submitted_by: str | None = None
    submitted_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    approved_by: str | None = None
    approved_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    created_by: str


class PlanStepIn(StrictBody):
    order: int = Field(ge=1, le=1000)
    title: NonBlank = Field(min_length=1, max_length=200)
    operation: str = Field(default="", max_length=2000)
    how: str = Field(default="", max_length=4000)


class ServicePlanWrite(StrictBody):
    """The content of a plan revision (status and approval are set by their own operations)."""

    goals: list[str] = Field(min_length=1, max_length=50)
    steps: list[PlanStepIn] = Field(min_length=1, max_length=200)
    risk_measures: list[str] = Field(min_length=1, max_length=100)
    preparation_items: list[NonBlank] = Field(
        default_factory=list, max_length=100,
        description="S6: what this job needs prepared (special tools, spare parts, documents); each becomes an "
                    "item of the preparation checklist")
    report_period_days: int = Field(default=7, ge=1, le=90,
                                    description="S16: days between the periodic reports to the customer")


class ServicePlanRead(VersionedRead):
    id: UUID
    case_id: UUID
    revision: int
    status: PlanStatus
    goals: list[str]
    steps: list[PlanStepIn]
    risk_measures: list[str]
    preparation_items: list[str] = []
    report_period_days: int = 7
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
