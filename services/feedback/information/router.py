"""HTTP: customer information (S32) captured on calls, routed, answered, the customer told."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.agents import acting_agent
from services.feedback.clock import Now
from services.feedback.idempotent import IdempotencyKey, run_idempotent
from services.feedback.information import service
from services.feedback.information.models import InformationAnswer, InformationCreate, InformationRead, InfoStatus
from services.feedback.openapi import problem_responses
from shared.api.app import Sessions
from shared.api.auth import CALL_CENTRE, SUPERVISORS, Principal, Requires, Role
from shared.api.concurrency import etag
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.db import transaction

router = APIRouter(tags=["customer information"])

Agent = Annotated[Principal, Depends(Requires(*CALL_CENTRE))]
Reader = Annotated[Principal, Depends(Requires(
    *CALL_CENTRE, *SUPERVISORS))]
Answerer = Annotated[Principal, Depends(Requires(Role.DEPARTMENT_HEAD, Role.REGIONAL_CENTRE))]
IfMatch = Annotated[str | None, Header(description="ETag as read; a stale one gives 412")]



@router.post("/follow-up-calls/{call_id}/customer-information", response_model=InformationRead,
             status_code=status.HTTP_201_CREATED,
             summary="S32: an opinion, suggestion or lead heard on the call -> CustomerInformationRouted",
             description="Routed at once by kind (configurable: opinions to the service department, suggestions "
                         "to the technology department, leads to the case region's regional centre) unless "
                         "`department` is given. Idempotent with `Idempotency-Key`.",
             responses=problem_responses(404, 428))
async def capture_customer_information(call_id: UUID, body: InformationCreate, principal: Agent, sessions: Sessions,
                                       now: Now, request: Request, response: Response,
                                       idempotency_key: IdempotencyKey = None) -> Any:
    agent = acting_agent(principal, body.agent)
    routing = request.app.state.settings.customer_info_routing

    async def work(session: AsyncSession) -> dict[str, Any]:
        info = await service.capture_on_call(session=session, call_id=call_id, body=body, agent=agent,
                                             actor=principal.actor, now=now, routing=routing)
        return InformationRead.model_validate(info).model_dump(mode="json")

    return await run_idempotent(sessions=sessions, response=response, principal=principal,
                                key=idempotency_key, status_code=201, work=work)


@router.get("/customer-information", response_model=Page[InformationRead],
            summary="S32: customer information, oldest routed first (filter open items by department)")
async def list_information(
    principal: Reader, sessions: Sessions,
    status_filter: Annotated[InfoStatus | None, Query(alias="status")] = None,
    department: Annotated[str | None, Query(max_length=128)] = None,
    case_id: Annotated[UUID | None, Query()] = None, limit: PageSize = 50, cursor: Cursor = None,
) -> Page[InformationRead]:
    async with sessions() as session:
        rows, nxt = await service.list_information(session=session, status=status_filter, department=department,
                                                   case_id=case_id, limit=limit,
                                                   cursor=cursor)
    return page_of(InformationRead, rows, nxt)


@router.get("/customer-information/{info_id}", response_model=InformationRead, summary="One item of S32",
            responses=problem_responses(404))
async def get_information(info_id: UUID, principal: Reader, sessions: Sessions, response: Response) -> InformationRead:
    async with sessions() as session:
        info = await service.get(session=session, info_id=info_id)
    response.headers["ETag"] = etag(info.version)
    return InformationRead.model_validate(info)


@router.post("/customer-information/{info_id}/answer", response_model=InformationRead,
             summary="S32: the department's answer and the customer told -> CustomerInformationAnswered",
             description="The regional centre of the item's region, or the head of its department (token `unit`). "
                         "Gate: still open, an answer, and a recorded notification of the customer.",
             responses=problem_responses(404, 409, 412))
async def answer_customer_information(info_id: UUID, body: InformationAnswer, principal: Answerer, sessions: Sessions,
                                      now: Now, response: Response, if_match: IfMatch = None) -> InformationRead:
    async with transaction(sessions) as session:
        info = await service.answer(session=session, info_id=info_id, body=body, principal=principal, now=now,
                                    if_match=if_match)
    response.headers["ETag"] = etag(info.version)
    return InformationRead.model_validate(info)
