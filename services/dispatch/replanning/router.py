"""HTTP: replanning in real time (a repair after leave, an urgent case fitted, S2 arrival windows) and
applying a repair through the S3 and S7 gates."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from services.dispatch.replanning import service
from services.dispatch.replanning.models import (
    ArrivalWindows,
    EngineerReplanning,
    RepairApplication,
    RepairApplied,
    RepairRead,
    UrgentFit,
)
from services.dispatch.suggestions.router import TimeLimit
from shared.api.app import Sessions
from shared.api.auth import Dispatcher
from shared.api.params import IsoDate
from shared.api.problems import PROBLEM_RESPONSES, problem_responses
from shared.db import transaction

router = APIRouter(tags=["replanning"])

_ERR = problem_responses(404, 409)


@router.post("/engineers/{engineer_id}/replanning", response_model=RepairRead, responses=_ERR,
             summary="After leave entered (or the engineer pulled off): the affected cases and the repair that "
                     "changes the fewest other assignments (apply it with POST /repair-applications)")
async def replan_engineer(engineer_id: str, principal: Dispatcher, sessions: Sessions, limit: TimeLimit,
                          body: EngineerReplanning | None = None) -> RepairRead:
    async with sessions() as session:
        return await service.replan_for_engineer(session=session, engineer_id=engineer_id,
                                                 body=body or EngineerReplanning(), time_limit=limit)


@router.post("/cases/{case_id}/urgent-fit", response_model=RepairRead, responses=_ERR,
             summary="Fit an urgent case into the plan with the fewest moves (apply with POST /repair-applications)")
async def fit_urgent(case_id: UUID, principal: Dispatcher, sessions: Sessions, limit: TimeLimit,
                     body: UrgentFit | None = None) -> RepairRead:
    async with sessions() as session:
        return await service.fit_urgent_case(session=session, case_id=case_id, body=body or UrgentFit(),
                                             time_limit=limit)


@router.post("/repair-applications", response_model=RepairApplied, responses={
    **_ERR, 412: PROBLEM_RESPONSES[412]},
             summary="Apply a repair: every change through the S3 gate, a moved arrival through S7's (customer and "
                     "regional centre told); a refusal names its case and nothing is applied")
async def apply_repair(body: RepairApplication, principal: Dispatcher, sessions: Sessions,
                       request: Request) -> RepairApplied:
    worker = request.app.state.notification_worker
    async with transaction(sessions) as session:
        result = await service.apply_repair(session=session, body=body, actor=principal.actor, now=worker.clock(),
                                            settings=request.app.state.settings)
    if any(c.status == "informing" for c in result.changes):
        worker.wake()
    return result


@router.get("/cases/{case_id}/arrival-windows", response_model=ArrivalWindows, responses=_ERR,
            summary="S2: candidate arrival windows in which a qualified team is free (earliest first)")
async def list_arrival_windows(
    case_id: UUID, principal: Dispatcher, sessions: Sessions,
    from_day: Annotated[IsoDate | None, Query(alias="from", description="First day (default: tomorrow, UTC)")] = None,
    days: Annotated[int, Query(ge=1, le=90, description="How many days to scan")] = 14,
    duration_days: Annotated[int, Query(ge=1, le=60)] = 3,
    arrival_hour: Annotated[int, Query(ge=0, le=23, description="Arrival hour (UTC)")] = 8,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> ArrivalWindows:
    async with sessions() as session:
        return await service.arrival_windows(session=session, case_id=case_id, first_day=from_day, days=days,
                                             duration_days=duration_days, arrival_hour=arrival_hour, limit=limit)
