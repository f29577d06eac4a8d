"""HTTP: S6 dispatch and its readiness (what the gate still misses)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel

from services.dispatch.cases import domain
from services.dispatch.cases import service as cases
from services.dispatch.cases.models import DispatchCommand, ServiceCaseRead
from services.dispatch.dispatching import service
from shared.api.app import Sessions
from shared.api.auth import Dispatcher, Supervisor
from shared.api.concurrency import IfMatch, with_etag
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(tags=["dispatch (S6)"])


class DispatchReadinessRead(BaseModel):
    ready: bool
    missing_conditions: list[str]


@router.get("/cases/{case_id}/dispatch-readiness", response_model=DispatchReadinessRead,
            summary="S6: what the dispatch gate would refuse now", responses={404: PROBLEM_RESPONSES[404]})
async def dispatch_readiness(case_id: UUID, principal: Supervisor, sessions: Sessions) -> DispatchReadinessRead:
    async with sessions() as session:
        case = await cases.get(session=session, case_id=case_id)
        missing = domain.dispatch_problems(await service.readiness(session=session, case=case))
    return DispatchReadinessRead(ready=not missing, missing_conditions=missing)


@router.post("/cases/{case_id}/dispatch", response_model=ServiceCaseRead,
             summary="S6: dispatch the team (refused, naming every missing S1-S6 condition, until ready)",
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409, 412)})
async def dispatch_case(case_id: UUID, principal: Dispatcher, sessions: Sessions, response: Response,
                   body: DispatchCommand | None = None, if_match: IfMatch = None) -> ServiceCaseRead:
    async with transaction(sessions) as session:
        case = await service.dispatch(session=session, case_id=case_id, command=body or DispatchCommand(),
                                      actor=principal.actor, if_match=if_match)
    return with_etag(ServiceCaseRead, case, response)
