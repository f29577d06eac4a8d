"""HTTP: S4 service plans (draft -> submitted -> approved by someone other than the author)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from services.dispatch.cases import service as cases
from services.dispatch.plans import service
from services.dispatch.plans.models import ServicePlan, ServicePlanRead, ServicePlanWrite
from shared.api.app import Sessions
from shared.api.auth import Dispatcher, Principal, Requires, Role, Supervisor
from shared.api.concurrency import IfMatch, with_etag
from shared.api.problems import problem_responses
from shared.db import transaction

router = APIRouter(tags=["service plans (S4)"])

Approver = Annotated[Principal, Depends(Requires(Role.DISPATCHER, Role.DEPARTMENT_HEAD))]
_ERR = problem_responses(404, 409, 412)


def _read(plan: ServicePlan, response: Response) -> ServicePlanRead:
    return with_etag(ServicePlanRead, plan, response)


@router.post("/cases/{case_id}/plans", status_code=status.HTTP_201_CREATED, response_model=ServicePlanRead,
             summary="S4: start a new draft revision of the case's service plan", responses=_ERR)
async def create_plan(case_id: UUID, body: ServicePlanWrite, principal: Dispatcher, sessions: Sessions,
                      response: Response) -> ServicePlanRead:
    async with transaction(sessions) as session:
        plan = await service.create(session=session, case_id=case_id, body=body, actor=principal.actor)
    response.headers["Location"] = f"/plans/{plan.id}"
    return _read(plan, response)


@router.get("/cases/{case_id}/plans", response_model=list[ServicePlanRead], summary="S4: every plan revision")
async def list_plans(case_id: UUID, principal: Supervisor, sessions: Sessions) -> list[ServicePlanRead]:
    async with sessions() as session:
        await cases.get(session=session, case_id=case_id)
        plans = await service.plans_of(session=session, case_id=case_id)
    return [ServicePlanRead.model_validate(p) for p in plans]


@router.get("/plans/{plan_id}", response_model=ServicePlanRead, summary="S4: one plan revision", responses=_ERR)
async def get_plan(plan_id: UUID, principal: Supervisor, sessions: Sessions, response: Response) -> ServicePlanRead:
    async with sessions() as session:
        plan = await service.get(session=session, plan_id=plan_id)
    return _read(plan, response)


@router.put("/plans/{plan_id}", response_model=ServicePlanRead, summary="S4: edit a draft", responses=_ERR)
async def update_plan(plan_id: UUID, body: ServicePlanWrite, principal: Dispatcher, sessions: Sessions,
                      response: Response, if_match: IfMatch = None) -> ServicePlanRead:
    async with transaction(sessions) as session:
        plan = await service.update(session=session, plan_id=plan_id, body=body, actor=principal.actor,
                                    if_match=if_match)
    return _read(plan, response)


@router.post("/plans/{plan_id}/submit", response_model=ServicePlanRead, summary="S4: submit for approval",
             responses=_ERR)
async def submit_plan(plan_id: UUID, principal: Dispatcher, sessions: Sessions, response: Response,
                      if_match: IfMatch = None) -> ServicePlanRead:
    async with transaction(sessions) as session:
        plan = await service.submit(session=session, plan_id=plan_id, actor=principal.actor, if_match=if_match)
    return _read(plan, response)


@router.post("/plans/{plan_id}/approve", response_model=ServicePlanRead, responses=_ERR,
             summary="S4: approve (not by the author) -> ServicePlanApproved")
async def approve_plan(plan_id: UUID, principal: Approver, sessions: Sessions, response: Response,
                       if_match: IfMatch = None) -> ServicePlanRead:
    async with transaction(sessions) as session:
        plan = await service.approve(session=session, plan_id=plan_id, actor=principal.actor, if_match=if_match)
    return _read(plan, response)
