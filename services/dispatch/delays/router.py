"""HTTP: S7 arrival reschedule."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Response

from services.dispatch.cases.models import ServiceCaseRead
from services.dispatch.delays import service
from services.dispatch.delays.models import ArrivalReschedule
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.concurrency import etag
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(tags=["delays (S7)"])

Dispatcher = Annotated[Principal, Depends(Requires(Role.DISPATCHER))]
IfMatch = Annotated[str | None, Header(description="ETag of the case as read; a stale one gives 412")]


@router.post("/cases/{case_id}/arrival-reschedules", response_model=ServiceCaseRead,
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409, 412)},
             summary="S7: agree a new arrival time (customer and regional centre notified) -> ArrivalRescheduled")
async def reschedule_arrival(case_id: UUID, body: ArrivalReschedule, principal: Dispatcher, sessions: Sessions,
                             response: Response, if_match: IfMatch = None) -> ServiceCaseRead:
    async with transaction(sessions) as session:
        case = await service.reschedule(session=session, case_id=case_id, body=body, actor=principal.actor,
                                        if_match=if_match)
    response.headers["ETag"] = etag(case.version)
    return ServiceCaseRead.model_validate(case)
