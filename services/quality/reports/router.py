"""HTTP: views across quality issues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.quality.issues.models import QualityIssueRead
from services.quality.issues.router import read
from services.quality.reports import service
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.pagination import PageSize
from shared.clock import utcnow
from shared.events.quality import Severity

router = APIRouter(prefix="/issue-views", tags=["quality views"])

Analyst = Annotated[Principal, Depends(Requires(Role.QUALITY_ENGINEER, Role.DEPARTMENT_HEAD))]


class RecurrenceRead(BaseModel):
    failure_mode: str
    model: str
    case_count: int
    issue_count: int
    case_ids: list[UUID]
    first_seen: datetime
    last_seen: datetime


class TimeToCloseRead(BaseModel):
    severity: Severity
    closed_count: int
    mean_hours: float


@router.get("/recurrence", response_model=list[RecurrenceRead],
            summary="Recurrence: the same failure mode on the same model across cases")
async def recurrence(principal: Analyst, sessions: Sessions,
                     min_cases: Annotated[int, Query(ge=2, le=1000)] = 2) -> list[RecurrenceRead]:
    async with sessions() as session:
        return [RecurrenceRead(**r) for r in await service.recurrence(session=session, min_cases=min_cases)]


@router.get("/time-to-close", response_model=list[TimeToCloseRead], summary="Mean time to close by severity")
async def time_to_close(principal: Analyst, sessions: Sessions) -> list[TimeToCloseRead]:
    async with sessions() as session:
        return [TimeToCloseRead(**r) for r in await service.time_to_close(session=session)]


@router.get("/past-sla", response_model=list[QualityIssueRead], summary="Open issues past their SLA")
async def past_sla(principal: Analyst, sessions: Sessions, limit: PageSize = 100) -> list[QualityIssueRead]:
    async with sessions() as session:
        issues = await service.past_sla(session=session, now=utcnow(), limit=limit)
    return [read(i) for i in issues]
