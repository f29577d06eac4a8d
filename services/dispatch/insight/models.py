"""The insight read model (decision 0085): per-case KPI counts, per-engineer counts, per-case conformance
summary, maintained from events in dispatch's consumer transaction; and the API shapes read from it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Column, Float, Index, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.dispatch.record.models import StepStatus
from shared.db import timestamptz


# Column types, not columns: the mixins below give each table its own columns
def _count() -> Any:
    return SQLField(default=0, sa_type=Integer, nullable=False, sa_column_kwargs={"server_default": "0"})


def _sum() -> Any:
    return SQLField(default=0.0, sa_type=Float, nullable=False, sa_column_kwargs={"server_default": "0"})


class CasePlace(SQLModel):
    """Where and when a case belongs: region, equipment type, its engineers, the site's day of its creation."""

    case_id: UUID = SQLField(primary_key=True)
    region: str = SQLField(sa_type=String(64), nullable=False)
    equipment_type: str = SQLField(sa_type=String(100), nullable=False)
    engineers: list[str] = SQLField(default_factory=list, sa_type=ARRAY(String(64)), nullable=False)
    created_at: datetime = SQLField(sa_type=timestamptz(), nullable=False)
    period_day: date


class EngineerCounts(SQLModel):
    """The counts that belong to an engineer (S8 arrivals, S10/S20 days): an engineer's row, and summed in
    the case's."""

    arrivals: int = _count()
    arrivals_judged: int = _count()
    arrivals_on_time: int = _count()
    arrivals_three_calls_ok: int = _count()
    engineer_days: int = _count()
    days_signed_in: int = _count()
    days_signed_out: int = _count()
    days_logged: int = _count()


class CaseKpiFacts(CasePlace, EngineerCounts, table=True):
    """One row per case: where and when it belongs (region, equipment type, the site's day and month of
    its creation) and every KPI count of docs/kpis.md, recomputed when an event of the case lands."""

    __tablename__ = "case_kpi_facts"
    __table_args__ = (
        Index("ix_case_kpi_facts_day", "period_day"),
        Index("ix_case_kpi_facts_region_day", "region", "period_day"),
    )

    month: str = SQLField(sa_column=Column(String(7), nullable=False))
    completed: int = _count()
    first_visit_complete: int = _count()
    site_days: int = _count()
    issues_logged: int = _count()
    issues_closed: int = _count()
    closure_hours: float = _sum()
    issues_past_sla: int = _count()
    calls_closed: int = _count()
    calls_answered: int = _count()
    calls_unreachable: int = _count()
    csat_responses: int = _count()
    csat_satisfied: int = _count()
    nps_responses: int = _count()
    promoters: int = _count()
    detractors: int = _count()
    receipt_ratings: int = _count()
    receipt_rating_sum: float = _sum()
    cases_judged: int = _count()
    cases_conformant: int = _count()
    findings_judged: int = _count()
    last_event_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    updated_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class EngineerKpiFacts(EngineerCounts, table=True):
    """One row per engineer of a case: the counts that belong to an engineer (S8 arrivals, S10/S20 days)."""

    __tablename__ = "engineer_kpi_facts"
    __table_args__ = (Index("ix_engineer_kpi_facts_engineer_day", "engineer_id", "period_day"),)

    case_id: UUID = SQLField(primary_key=True)
    engineer_id: str = SQLField(sa_column=Column(String(64), primary_key=True))
    period_day: date


class CaseConformanceSummary(CasePlace, table=True):
    """One row per case: its S1-S34 statuses and finding counts (the conformance report's row)."""

    __tablename__ = "case_conformance_summary"
    __table_args__ = (
        Index("ix_case_conformance_summary_created", "created_at", "case_id"),
        Index("ix_case_conformance_summary_region_created", "region", "created_at", "case_id"),
    )

    done: int = _count()
    in_progress: int = _count()
    missing: int = _count()
    not_applicable: int = _count()
    findings: int = _count()
    steps: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    updated_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


# ---------------------------------------------------------------- API shapes

GroupBy = Literal["all", "region", "engineer", "equipment_type", "month"]


class KpiValue(BaseModel):
    kpi: str = Field(description="The KPI's name (docs/kpis.md)")
    steps: str = Field(description="The steps of the standard it measures")
    unit: Literal["share", "mean", "nps"]
    numerator: float
    denominator: int = Field(description="The count behind the rate or mean")
    value: float | None = Field(description="numerator / denominator (NPS: x100); none when the denominator is 0")


class KpiGroup(BaseModel):
    group: str
    cases: int = Field(description="Cases of the group in the period")
    kpis: list[KpiValue]


class KpiReport(BaseModel):
    group_by: GroupBy
    period_from: date | None
    period_to: date | None
    groups: list[KpiGroup]


class StepCell(BaseModel):
    status: StepStatus
    findings: int


class ConformanceReportRow(BaseModel):
    case_id: UUID
    region: str
    equipment_type: str
    engineers: list[str]
    created_at: datetime
    done: int
    in_progress: int
    missing: int
    not_applicable: int
    findings: int
    steps: dict[str, StepCell] = Field(description="S1-S34: status and number of findings")
    conformance: str = Field(description="The case's conformance view: the events and findings behind each cell")
