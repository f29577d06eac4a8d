"""HTTP: S7 arrival reschedule (the dispatcher told both sides, or asks the system to: decision 0090)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.dispatch.cases.models import ServiceCaseRead
from services.dispatch.delays import service
from services.dispatch.delays.models import ArrivalReschedule, ArrivalRescheduleRequestRead
from shared.api.app import Sessions
from shared.api.auth import Dispatcher
from shared.api.concurrency import IfMatch, with_etag
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(tags=["delays (S7)"])

_RESCHEDULE: dict[int | str, dict[str, Any]] = {
    202: {"model": ArrivalRescheduleRequestRead,
          "description": "`inform: true`: the system is telling the customer and the regional centre; the arrival "
                         "moves when both messages are sent (see the request's `status`)"},
    **{k: PROBLEM_RESPONSES[k] for k in (404, 409, 412)},
}


@router.post("/cases/{case_id}/arrival-reschedules", response_model=ServiceCaseRead, responses=_RESCHEDULE,
             summary="S7: agree a new arrival time (customer and regional centre notified, or `inform` to have "
                     "the system tell them) -> ArrivalRescheduled")
async def reschedule_arrival(case_id: UUID, body: ArrivalReschedule, principal: Dispatcher, sessions: Sessions,
                             request: Request, response: Response,
                             if_match: IfMatch = None) -> ServiceCaseRead | JSONResponse:
    if body.inform:
        async with transaction(sessions) as session:
            pending = await service.request_informed(
                session=session, case_id=case_id, body=body, actor=principal.actor, if_match=if_match,
                now=request.app.state.notification_worker.clock(), settings=request.app.state.settings)
        request.app.state.notification_worker.wake()
        return JSONResponse(jsonable_encoder(pending), status_code=202, headers={
            "Location": f"/cases/{case_id}/arrival-reschedules/{pending.id}"})
    async with transaction(sessions) as session:
        case = await service.reschedule(session=session, case_id=case_id, body=body, actor=principal.actor,
                                        if_match=if_match)
    return with_etag(ServiceCaseRead, case, response)


@router.get("/cases/{case_id}/arrival-reschedules/{request_id}", response_model=ArrivalRescheduleRequestRead,
            responses={404: PROBLEM_RESPONSES[404]},
            summary="S7: a reschedule the system is informing for (informing, applied or refused)")
async def get_arrival_reschedule(case_id: UUID, request_id: UUID, principal: Dispatcher,
                                 sessions: Sessions) -> ArrivalRescheduleRequestRead:
    async with sessions() as session:
        return await service.get_request(session=session, case_id=case_id, request_id=request_id)
