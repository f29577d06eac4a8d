"""HTTP: the staffing policy (S3 rule table), assigning a team (S3) and staffing requests (S12)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.dispatch.cases.models import ServiceCaseRead
from services.dispatch.staffing import service
from services.dispatch.staffing.models import (
    AddStaff,
    AssignEngineers,
    StaffingPolicyRead,
    StaffingPolicyWrite,
    StaffingRequestRead,
)
from shared.api.app import Sessions
from shared.api.auth import Dispatcher, Principal, Requires, Role, Supervisor
from shared.api.concurrency import IfMatch, with_etag
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.problems import problem_responses
from shared.db import transaction

router = APIRouter(tags=["staffing (S3, S12)"])

PolicyEditor = Annotated[Principal, Depends(Requires(Role.DISPATCHER, Role.DEPARTMENT_HEAD))]
_ERR = problem_responses(404, 409, 412)


@router.get("/staffing-policy", response_model=StaffingPolicyRead, summary="S3: the current staffing rule table")
async def get_policy(principal: Supervisor, sessions: Sessions, response: Response) -> StaffingPolicyRead:
    async with sessions() as session:
        policy = await service.current_policy(session=session)
    return with_etag(StaffingPolicyRead, policy, response)


@router.get("/staffing-policy/versions/{version}", response_model=StaffingPolicyRead,
            summary="S3: one version of the staffing rule table", responses=_ERR)
async def get_policy_version(version: int, principal: Supervisor,
                             sessions: Sessions) -> StaffingPolicyRead:
    async with sessions() as session:
        policy = await service.get_policy(session=session, version=version)
    return StaffingPolicyRead.model_validate(policy)


@router.put("/staffing-policy", response_model=StaffingPolicyRead, responses=_ERR,
            summary="S3: store a new version of the staffing rule table (If-Match the current ETag)")
async def revise_policy(body: StaffingPolicyWrite, principal: PolicyEditor, sessions: Sessions, response: Response,
                        if_match: IfMatch = None) -> StaffingPolicyRead:
    async with transaction(sessions) as session:
        policy = await service.revise_policy(session=session, body=body, actor=principal.actor, if_match=if_match)
    return with_etag(StaffingPolicyRead, policy, response)


@router.post("/cases/{case_id}/assignment", response_model=ServiceCaseRead, responses=_ERR,
             summary="S3: assign the team (refused naming every failing staffing rule) -> EngineersAssigned")
async def assign_engineers(case_id: UUID, body: AssignEngineers, principal: Dispatcher, sessions: Sessions,
                           response: Response, if_match: IfMatch = None) -> ServiceCaseRead:
    async with transaction(sessions) as session:
        case = await service.assign(session=session, case_id=case_id, command=body, actor=principal.actor,
                                    if_match=if_match)
    return with_etag(ServiceCaseRead, case, response)


@router.get("/staffing-requests", response_model=Page[StaffingRequestRead],
            summary="S12: staffing requests opened by ScheduleAtRisk (oldest first)")
async def list_staffing_requests(
    principal: Supervisor, sessions: Sessions, limit: PageSize = 50, cursor: Cursor = None,
    status: Annotated[Literal["open", "fulfilled"] | None, Query()] = None,
    case_id: Annotated[UUID | None, Query()] = None,
) -> Page[StaffingRequestRead]:
    async with sessions() as session:
        rows, nxt = await service.list_staffing_requests(session=session, status=status, case_id=case_id,
                                                         limit=limit, cursor=cursor)
    return page_of(StaffingRequestRead, rows, nxt)


@router.post("/staffing-requests/{request_id}/staff", response_model=StaffingRequestRead, responses=_ERR,
             summary="S12: add engineers under the S3 rules -> StaffAdded (If-Match: the case's ETag)")
async def add_staff(request_id: UUID, body: AddStaff, principal: Dispatcher, sessions: Sessions,
                    if_match: IfMatch = None) -> StaffingRequestRead:
    async with transaction(sessions) as session:
        request = await service.add_staff(session=session, request_id=request_id, command=body,
                                          actor=principal.actor, if_match=if_match)
    return StaffingRequestRead.model_validate(request)
