"""HTTP: repair orders (S28)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response, status

from services.quality.repairs import service
from services.quality.repairs.models import (
    RepairOrder,
    RepairOrderCreate,
    RepairOrderRead,
    RepairStatus,
    RepairStatusChange,
    RepairStatusEntry,
    RepairStatusEntryRead,
)
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.concurrency import etag
from shared.api.pagination import Cursor, Page, PageSize
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(prefix="/repair-orders", tags=["repair orders"])

RepairDesk = Annotated[Principal, Depends(Requires(Role.QUALITY_ENGINEER))]
Reader = Annotated[Principal, Depends(Requires(
    Role.QUALITY_ENGINEER, Role.DISPATCHER, Role.DEPARTMENT_HEAD, Role.CALL_CENTRE_AGENT))]


def _read(order: RepairOrder, entries: list[RepairStatusEntry], response: Response | None = None) -> RepairOrderRead:
    if response is not None:
        response.headers["ETag"] = etag(order.version)
    shown = RepairOrderRead.model_validate(order)
    shown.history = [RepairStatusEntryRead.model_validate(e) for e in entries]
    return shown


@router.post("", response_model=RepairOrderRead, status_code=status.HTTP_201_CREATED,
             summary="S28: open a repair order (receipt number for the customer)",
             responses={409: PROBLEM_RESPONSES[409]})
async def open_order(body: RepairOrderCreate, principal: RepairDesk, sessions: Sessions,
                     response: Response) -> RepairOrderRead:
    async with transaction(sessions) as session:
        order = await service.open_order(session=session, body=body, actor=principal.actor)
        _order, entries = await service.get(session=session, order_id=order.id)
    response.headers["Location"] = f"/repair-orders/{order.id}"
    return _read(order, entries, response)


@router.get("", response_model=Page[RepairOrderRead], summary="Repair orders by case, receipt number, status")
async def list_orders(principal: Reader, sessions: Sessions, limit: PageSize = 50, cursor: Cursor = None,
                      case_id: UUID | None = None,
                      receipt_number: Annotated[str | None, Query(max_length=64)] = None,
                      status: RepairStatus | None = None) -> Page[RepairOrderRead]:
    async with sessions() as session:
        orders, next_cursor = await service.search(session=session, case_id=case_id, receipt_number=receipt_number,
                                                   status=status, limit=limit, cursor=cursor)
    return Page(items=[_read(o, []) for o in orders], next_cursor=next_cursor)


@router.get("/{order_id}", response_model=RepairOrderRead, summary="A repair order with its status history",
            responses={404: PROBLEM_RESPONSES[404]})
async def get_order(order_id: UUID, principal: Reader, sessions: Sessions, response: Response) -> RepairOrderRead:
    async with sessions() as session:
        order, entries = await service.get(session=session, order_id=order_id)
    return _read(order, entries, response)


@router.post("/{order_id}/status", response_model=RepairOrderRead,
             summary="S28: move the repair on; the customer is notified -> RepairStatusChanged",
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409, 412)})
async def change_status(order_id: UUID, body: RepairStatusChange, principal: RepairDesk, sessions: Sessions,
                        response: Response,
                        if_match: Annotated[str | None, Header(max_length=100)] = None) -> RepairOrderRead:
    async with transaction(sessions) as session:
        await service.change_status(session=session, order_id=order_id, status=body.status, note=body.note,
                                    actor=principal.actor, if_match=if_match)
        order, entries = await service.get(session=session, order_id=order_id)
    return _read(order, entries, response)
