"""API shapes of an engineer's agenda (nothing is stored: it is read from the visits and their records)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class AgendaTask(BaseModel):
    task_id: UUID
    title: str
    status: str
    planned_start: datetime | None
    planned_end: datetime | None


class AgendaDuty(BaseModel):
    kind: Literal["sign_in", "safety_checklist", "daily_log", "customer_report", "sign_out"]
    step: str = Field(description="The standard's step the duty comes from")
    done: bool
    task_id: UUID | None = Field(default=None, description="The task of a safety checklist")
    detail: str = ""


class AgendaVisit(BaseModel):
    visit_id: UUID
    case_id: UUID
    crm_reference: str
    site_name: str
    region: str
    status: str
    arrived: bool = Field(description="Whether the engineer had arrived on site by that day")
    tasks_pending: list[AgendaTask]
    duties: list[AgendaDuty]


class AgendaDay(BaseModel):
    day: date = Field(description="A calendar day in the site's time zone")
    visits: list[AgendaVisit]


class AgendaRead(BaseModel):
    engineer_id: str
    period_from: date
    period_to: date
    days: list[AgendaDay]
