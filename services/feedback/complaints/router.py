"""HTTP: complaints from follow-up and the quality issue each became."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.feedback.complaints import service
from services.feedback.complaints.models import ComplaintRead
from shared.api.app import Sessions
from shared.api.auth import CALL_CENTRE, Principal, Requires, Role
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/complaints", tags=["complaints"])

Reader = Annotated[Principal, Depends(Requires(
    *CALL_CENTRE, Role.DISPATCHER, Role.DEPARTMENT_HEAD, Role.QUALITY_ENGINEER))]


@router.get("", response_model=Page[ComplaintRead], summary="Complaints, newest first, with their quality issue")
async def list_complaints(principal: Reader, sessions: Sessions, case_id: Annotated[UUID | None, Query()] = None,
                          limit: PageSize = 50, cursor: Cursor = None) -> Page[ComplaintRead]:
    async with sessions() as session:
        rows, nxt = await service.list_complaints(session=session, case_id=case_id, limit=limit,
                                                  cursor=cursor)
    return page_of(ComplaintRead, rows, nxt)


@router.get("/{complaint_id}", response_model=ComplaintRead, summary="One complaint and its issue's state",
            responses={404: PROBLEM_RESPONSES[404]})
async def get_complaint(complaint_id: UUID, principal: Reader, sessions: Sessions) -> ComplaintRead:
    async with sessions() as session:
        return ComplaintRead.model_validate(await service.get(session=session, complaint_id=complaint_id))
