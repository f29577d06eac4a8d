"""HTTP: S2 condition calls and the list of due postponements."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import ServiceCase
from services.dispatch.conditions import service
from services.dispatch.conditions.models import ConditionCallCreate, ConditionCallRead, DuePostponement
from shared.api.app import Sessions
from shared.api.auth import Dispatcher, Supervisor
from shared.api.concurrency import IfMatch, etag
from shared.api.params import IsoDate
from shared.api.problems import PROBLEM_RESPONSES
from shared.clock import utcnow
from shared.db import transaction

router = APIRouter(tags=["service conditions (S2)"])


@router.post("/cases/{case_id}/condition-calls", status_code=status.HTTP_201_CREATED,
             response_model=ConditionCallRead,
             summary="S2: record the condition call (confirmed, or postponed with reason and new date)",
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409, 412)})
async def record_condition_call(case_id: UUID, body: ConditionCallCreate, principal: Dispatcher,
                                sessions: Sessions, response: Response,
                                if_match: IfMatch = None) -> ConditionCallRead:
    async with transaction(sessions) as session:
        call = await service.record_call(session=session, case_id=case_id, body=body, actor=principal.actor,
                                         if_match=if_match)
        case = await session.get(ServiceCase, case_id)
        version = case.version if case else 0
    response.headers["ETag"] = etag(version)
    return ConditionCallRead.model_validate(call)


@router.get("/cases/{case_id}/condition-calls", response_model=list[ConditionCallRead],
            summary="S2: the condition calls of a case, oldest first", responses={404: PROBLEM_RESPONSES[404]})
async def list_condition_calls(case_id: UUID, principal: Supervisor, sessions: Sessions) -> list[ConditionCallRead]:
    async with sessions() as session:
        await cases.get(session=session, case_id=case_id)
        calls = await service.calls_of(session=session, case_id=case_id)
    return [ConditionCallRead.model_validate(c) for c in calls]


@router.get("/postponements/due", response_model=list[DuePostponement],
            summary="S2: postponements that came due and were not settled by a later call")
async def list_due_postponements(
    principal: Supervisor, sessions: Sessions,
    on: Annotated[IsoDate | None, Query(description="The day to evaluate (default: today, UTC)")] = None,
) -> list[DuePostponement]:
    async with sessions() as session:
        rows = await service.due_postponements(session=session, today=on or utcnow().date())
    return [service.as_due(call, case) for call, case in rows]
