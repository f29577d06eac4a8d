"""HTTP: follow-up calls for the call-centre tool and its agents."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.feedback.calls import service
from services.feedback.calls.models import FollowUpCallRead
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.pagination import PageSize
from shared.api.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/follow-up-calls", tags=["follow-up calls"])

CallReader = Annotated[Principal, Depends(Requires(
    Role.CALL_CENTRE_AGENT, Role.CALL_CENTRE_TOOL, Role.DISPATCHER, Role.DEPARTMENT_HEAD))]


@router.get("", response_model=list[FollowUpCallRead], summary="Follow-up calls, earliest due first")
async def list_calls(principal: CallReader, sessions: Sessions, case_id: Annotated[UUID | None, Query()] = None,
                     limit: PageSize = 50) -> list[FollowUpCallRead]:
    async with sessions() as session:
        calls = await service.list_calls(session=session, case_id=case_id, limit=limit)
    return [FollowUpCallRead.model_validate(c) for c in calls]


@router.get("/{call_id}", response_model=FollowUpCallRead, summary="One follow-up call",
            responses={404: PROBLEM_RESPONSES[404]})
async def get_call(call_id: UUID, principal: CallReader, sessions: Sessions) -> FollowUpCallRead:
    async with sessions() as session:
        return FollowUpCallRead.model_validate(await service.get(session=session, call_id=call_id))
