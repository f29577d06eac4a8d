"""HTTP: the CRM's webhook (S1) and the service case resource."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from services.dispatch.cases import service
from services.dispatch.cases.models import (
    CaseEventRead,
    CaseSearch,
    CaseStatus,
    ServiceCaseRead,
    ServiceRequestCreate,
)
from services.dispatch.settings import DispatchSettings
from shared.api.app import Sessions
from shared.api.auth import CaseWorker, Dispatcher, Principal, Requires, Role
from shared.api.concurrency import IfMatch, with_etag
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.params import IsoDateTime
from shared.api.personal_data import audit_read, contact_subjects
from shared.api.problems import PROBLEM_RESPONSES
from shared.api.regions import region_scope
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from shared.db import one_statement, transaction
from shared.idempotency import pending_key

router = APIRouter(tags=["service cases"])

CrmClient = Annotated[Principal, Depends(Requires(Role.CRM))]


async def crm_signature(
    request: Request,
    principal: CrmClient,
    x_signature_timestamp: Annotated[str | None, Header(description="Unix seconds")] = None,
    x_signature: Annotated[str | None, Header(description="sha256=<hex HMAC of '<timestamp>.<body>'>")] = None,
) -> Principal:
    """S1 webhook: HMAC-SHA256 over timestamp and raw body, within the replay window; the CRM client
    whose request it is.

    The caller's role is checked first, so another client learns nothing about the signature.
    """
    settings: DispatchSettings = request.app.state.settings
    verify_signature(
        secrets=[s.get_secret_value() for s in settings.crm_webhook_secrets],
        timestamp=x_signature_timestamp, signature=x_signature, body=await request.body(),
    )
    return principal


# one dependency for the role and the signature (decision 0098: fewer to resolve per request)
SignedCrmClient = Annotated[Principal, Depends(crm_signature)]


@router.post(
    "/crm/service-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceCaseRead,
    summary="S1: receive a service request from the CRM (signed webhook, idempotent)",
    description=(f"Signed with HMAC-SHA256 over `<{TIMESTAMP_HEADER}>.<raw body>` in `{SIGNATURE_HEADER}`. "
                 "Sending the same `crm_reference` again returns the existing case with 200."),
    responses={200: {"description": "The case already exists for this CRM reference",
                     "model": ServiceCaseRead}, 401: PROBLEM_RESPONSES[401]},
)
async def receive_service_request(
    body: ServiceRequestCreate, principal: SignedCrmClient, sessions: Sessions, response: Response
) -> ServiceCaseRead:
    if pending_key.get() is None:  # the hot path: one statement (decision 0098)
        async with one_statement(sessions) as conn:
            case, created = await service.open_case(conn=conn, request=body, actor=principal.actor)
    else:  # an Idempotency-Key is reserved in the commit that opens the case
        async with transaction(sessions) as session:
            case, created = await service.receive_request(session=session, request=body, actor=principal.actor)
    if created:
        response.headers["Location"] = f"/cases/{case['id']}"
    else:
        response.status_code = status.HTTP_200_OK
    return ServiceCaseRead.model_validate(case)


@router.get("/cases", response_model=Page[ServiceCaseRead],
            summary="List and search service cases (newest first, keyset-paginated)")
async def list_cases(
    principal: CaseWorker, sessions: Sessions, limit: PageSize = 50, cursor: Cursor = None,
    status_filter: Annotated[CaseStatus | None, Query(alias="status")] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    customer: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name")] = None,
    engineer: Annotated[str | None, Query(max_length=64, description="An engineer on the team")] = None,
    created_from: Annotated[IsoDateTime | None, Query()] = None,
    created_to: Annotated[IsoDateTime | None, Query()] = None,
    planned_from: Annotated[IsoDateTime | None, Query(description="Planned window ends at or after")] = None,
    planned_to: Annotated[IsoDateTime | None, Query(description="Planned window starts before")] = None,
) -> Page[ServiceCaseRead]:
    own = service.only_own_cases(principal)
    if own is not None:
        engineer = own
    scope = region_scope(principal)  # a regional centre lists its own region only
    if scope is not None:
        if region not in (None, scope):
            return Page(items=[], next_cursor=None)
        region = scope
    search = CaseSearch(status=status_filter, region=region, customer=customer, engineer=engineer,
                        created_from=created_from, created_to=created_to, planned_from=planned_from,
                        planned_to=planned_to)
    async with sessions() as session:
        rows, nxt = await service.list_cases(session=session, search=search, limit=limit, cursor=cursor)
    return page_of(ServiceCaseRead, rows, nxt)


@router.get("/cases/{case_id}", response_model=ServiceCaseRead, summary="One service case",
            responses={404: PROBLEM_RESPONSES[404]})
async def get_case(request: Request, case_id: UUID, principal: CaseWorker, sessions: Sessions,
                   response: Response) -> ServiceCaseRead:
    async with sessions() as session:
        case = await service.get_visible(session=session, case_id=case_id, principal=principal)
    await audit_read(sessions, request, principal, "customer_contact", contact_subjects(case.contacts))
    return with_etag(ServiceCaseRead, case, response)


@router.get("/cases/{case_id}/timeline", response_model=Page[CaseEventRead],
            summary="Every event of every service about this case, oldest first (keyset-paginated)",
            responses={404: PROBLEM_RESPONSES[404]})
async def get_timeline(case_id: UUID, principal: CaseWorker, sessions: Sessions, limit: PageSize = 50,
                       cursor: Cursor = None) -> Page[CaseEventRead]:
    async with sessions() as session:
        events, nxt = await service.timeline_page(session=session, case_id=case_id, principal=principal,
                                                  limit=limit, cursor=cursor)
    return page_of(CaseEventRead, events, nxt)


@router.post("/cases/{case_id}/acknowledge", response_model=ServiceCaseRead,
             summary="S1: acknowledge a received request",
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409, 412)})
async def acknowledge(
    case_id: UUID, principal: Dispatcher, sessions: Sessions, response: Response, if_match: IfMatch = None
) -> ServiceCaseRead:
    async with transaction(sessions) as session:
        case = await service.acknowledge(session=session, case_id=case_id, actor=principal.actor, if_match=if_match)
    return with_etag(ServiceCaseRead, case, response)
