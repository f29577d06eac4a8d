"""HTTP: S22-S24 routed items (tracked until answered)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.dispatch.routing import service
from services.dispatch.routing.models import AnswerItem, MediateItem, RoutedItemRead, RoutedStatus, RouteItem
from shared.api.app import Sessions
from shared.api.auth import Dispatcher, Supervisor
from shared.api.concurrency import IfMatch, with_etag
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.problems import problem_responses
from shared.db import transaction

router = APIRouter(prefix="/routed-items", tags=["routing (S22-S24)"])

_ERR = problem_responses(404, 409, 412)


@router.get("", response_model=Page[RoutedItemRead], summary="S22-S24: routed items, oldest first")
async def list_items(
    principal: Supervisor, sessions: Sessions, limit: PageSize = 50, cursor: Cursor = None,
    status: Annotated[RoutedStatus | None, Query()] = None,
    kind: Annotated[Literal["referral", "abnormal_request", "internal_disagreement"] | None, Query()] = None,
    unit: Annotated[str | None, Query(max_length=100)] = None,
    case_id: Annotated[UUID | None, Query()] = None,
) -> Page[RoutedItemRead]:
    async with sessions() as session:
        rows, nxt = await service.list_items(session=session, status=status, kind=kind, unit=unit, case_id=case_id,
                                             limit=limit, cursor=cursor)
    return page_of(RoutedItemRead, rows, nxt)


@router.get("/{item_id}", response_model=RoutedItemRead, summary="S22-S24: one routed item", responses=_ERR)
async def get_item(item_id: UUID, principal: Supervisor, sessions: Sessions, response: Response) -> RoutedItemRead:
    async with sessions() as session:
        item = await service.get(session=session, item_id=item_id)
    return with_etag(RoutedItemRead, item, response)


@router.post("/{item_id}/assignment", response_model=RoutedItemRead, responses=_ERR,
             summary="S22-S24: route the item to a unit -> RoutedItemAssigned")
async def route_item(item_id: UUID, body: RouteItem, principal: Dispatcher, sessions: Sessions,
                     response: Response, if_match: IfMatch = None) -> RoutedItemRead:
    async with transaction(sessions) as session:
        item = await service.route(session=session, item_id=item_id, body=body, actor=principal.actor,
                                   if_match=if_match)
    return with_etag(RoutedItemRead, item, response)


@router.post("/{item_id}/answer", response_model=RoutedItemRead, responses=_ERR,
             summary="S22-S24: record the answer of the unit the item was routed to (token `unit`/`region`), of a "
                     "department head once escalated (S24), or a dispatcher's on its behalf -> RoutedItemAnswered")
async def answer_item(item_id: UUID, body: AnswerItem, principal: Supervisor, sessions: Sessions,
                      response: Response, if_match: IfMatch = None) -> RoutedItemRead:
    async with transaction(sessions) as session:
        item = await service.answer(session=session, item_id=item_id, body=body, principal=principal,
                                    if_match=if_match)
    return with_etag(RoutedItemRead, item, response)


@router.post("/{item_id}/mediation", response_model=RoutedItemRead, responses=_ERR,
             summary="S24: record the mediation; unresolved -> InternalDisagreementEscalated to the department "
                     "heads, resolved -> RoutedItemAnswered")
async def mediate_item(item_id: UUID, body: MediateItem, principal: Supervisor, sessions: Sessions,
                       response: Response, if_match: IfMatch = None) -> RoutedItemRead:
    async with transaction(sessions) as session:
        item = await service.mediate(session=session, item_id=item_id, body=body, principal=principal,
                                     if_match=if_match)
    return with_etag(RoutedItemRead, item, response)
