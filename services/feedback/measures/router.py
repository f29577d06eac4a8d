"""HTTP: follow-up measures (CSAT, NPS, response and unreachable rates, time to call)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from services.feedback.measures import service
from services.feedback.measures.domain import GroupBy
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.params import IsoDateTime
from shared.api.problems import PROBLEM_RESPONSES, InvalidInput
from shared.messages import msg

router = APIRouter(prefix="/measures", tags=["measures"])

Reader = Annotated[Principal, Depends(Requires(
    Role.DEPARTMENT_HEAD, Role.DISPATCHER, Role.QUALITY_ENGINEER, Role.REGIONAL_CENTRE, Role.CALL_CENTRE_TOOL))]


class MeasureRowRead(BaseModel):
    group: str
    calls_closed: int
    responses: int
    response_rate: float | None
    unreachable_rate: float | None
    csat_percent: float | None
    csat_mean: float | None
    nps: float | None
    promoters: int
    passives: int
    detractors: int
    mean_hours_completion_to_call: float | None


class MeasuresRead(BaseModel):
    start: AwareDatetime
    end: AwareDatetime
    group_by: GroupBy
    rows: list[MeasureRowRead]


@router.get("", response_model=MeasuresRead, summary="CSAT, NPS, response rate, unreachable rate, time to call",
            description="Over calls closed and survey responses answered in [start, end), grouped by month, "
                        "region, engineer (a call counts for each engineer of the team) or equipment type. "
                        "NPS = % promoters (9-10) minus % detractors (0-6); CSAT = % of 4-5 answers.",
            responses={422: PROBLEM_RESPONSES[422]})
async def measures(
    principal: Reader, sessions: Sessions, start: Annotated[IsoDateTime, Query()],
    end: Annotated[IsoDateTime, Query()], group_by: Annotated[GroupBy, Query()] = GroupBy.ALL,
    region: Annotated[str | None, Query(max_length=64)] = None,
) -> MeasuresRead:
    if end <= start:
        raise InvalidInput(msg("end must be after start"), field="end")
    async with sessions() as session:
        rows = await service.measures(session=session, start=start, end=end, group_by=group_by, region=region)
    return MeasuresRead(start=start, end=end, group_by=group_by, rows=[MeasureRowRead(**r) for r in rows])
