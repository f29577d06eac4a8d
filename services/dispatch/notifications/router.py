"""HTTP: the messages sent to people, the staff directory they are addressed from, opt-outs (decision 0090).

The messages hold customers' addresses: the supervisors who act on them read them (a centre its region). The
directory and opt-outs are kept by dispatchers (and admins).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from services.dispatch.notifications import service
from services.dispatch.notifications.domain import Audience, NotificationStatus
from services.dispatch.notifications.models import (
    NotificationRead,
    OptOutCreate,
    OptOutRead,
    RecipientCreate,
    RecipientRead,
    RecipientUpdate,
)
from services.dispatch.settings import DispatchSettings
from shared.api.app import Sessions
from shared.api.auth import Dispatcher, Supervisor
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.problems import problem_responses
from shared.api.regions import region_scope
from shared.db import transaction

router = APIRouter(tags=["notifications"])

_404 = problem_responses(404)
_409 = problem_responses(409)


def _settings(request: Request) -> DispatchSettings:
    return request.app.state.settings


def _now(request: Request) -> datetime:
    """The worker's clock (tests pin it), so what is recorded agrees with what is sent."""
    return request.app.state.notification_worker.clock()


@router.get("/notifications", response_model=Page[NotificationRead],
            summary="Messages to people (queued, sent, failed, suppressed), oldest first")
async def list_notifications(principal: Supervisor, sessions: Sessions, limit: PageSize = 50, cursor: Cursor = None,
                             case_id: Annotated[str | None, Query(max_length=64)] = None,
                             message_status: Annotated[NotificationStatus | None, Query(alias="status")] = None,
                             ) -> Page[NotificationRead]:
    async with sessions() as session:
        rows, nxt = await service.list_messages(session=session, case_id=case_id, status=message_status,
                                                region=region_scope(principal), limit=limit, cursor=cursor)
    return page_of(NotificationRead, rows, nxt)


@router.post("/notification-recipients", status_code=status.HTTP_201_CREATED, response_model=RecipientRead,
             responses=_409, summary="Add a staff recipient: a role (and region) told at an address")
async def add_notification_recipient(body: RecipientCreate, principal: Dispatcher, sessions: Sessions,
                                     request: Request, response: Response) -> RecipientRead:
    async with transaction(sessions) as session:
        recipient = await service.add_recipient(session=session, body=body, actor=principal.actor,
                                                now=_now(request), settings=_settings(request))
    response.headers["Location"] = f"/notification-recipients/{recipient.id}"
    return RecipientRead.model_validate(recipient)


@router.get("/notification-recipients", response_model=Page[RecipientRead],
            summary="The staff directory of notifications, oldest first")
async def list_notification_recipients(principal: Dispatcher, sessions: Sessions, limit: PageSize = 50,
                                       cursor: Cursor = None, role: Annotated[Audience | None, Query()] = None,
                                       region: Annotated[str | None, Query(max_length=64)] = None,
                                       ) -> Page[RecipientRead]:
    async with sessions() as session:
        rows, nxt = await service.list_recipients(session=session, role=role, region=region, limit=limit,
                                                  cursor=cursor)
    return page_of(RecipientRead, rows, nxt)


@router.patch("/notification-recipients/{recipient_id}", response_model=RecipientRead, responses=_404,
              summary="Change a staff recipient's name, address or language; deactivate or reactivate it")
async def update_notification_recipient(recipient_id: UUID, body: RecipientUpdate, principal: Dispatcher,
                                        sessions: Sessions, request: Request) -> RecipientRead:
    async with transaction(sessions) as session:
        recipient = await service.update_recipient(session=session, recipient_id=recipient_id, body=body,
                                                   settings=_settings(request))
    return RecipientRead.model_validate(recipient)


@router.delete("/notification-recipients/{recipient_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=_404, summary="Remove a staff recipient (its messages stay)")
async def remove_notification_recipient(recipient_id: UUID, principal: Dispatcher, sessions: Sessions) -> Response:
    async with transaction(sessions) as session:
        await service.remove_recipient(session=session, recipient_id=recipient_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/notification-opt-outs", status_code=status.HTTP_201_CREATED, response_model=OptOutRead,
             summary="Record that an address is not to be contacted (its queued messages are suppressed)")
async def record_notification_opt_out(body: OptOutCreate, principal: Dispatcher, sessions: Sessions,
                                      request: Request, response: Response) -> OptOutRead:
    async with transaction(sessions) as session:
        record, _suppressed = await service.opt_out(session=session, body=body, actor=principal.actor,
                                                    now=_now(request))
    response.headers["Location"] = f"/notification-opt-outs/{record.id}"
    return OptOutRead.model_validate(record)


@router.get("/notification-opt-outs", response_model=Page[OptOutRead], summary="Opted-out addresses, oldest first")
async def list_notification_opt_outs(principal: Dispatcher, sessions: Sessions, limit: PageSize = 50,
                                     cursor: Cursor = None) -> Page[OptOutRead]:
    async with sessions() as session:
        rows, nxt = await service.list_opt_outs(session=session, limit=limit, cursor=cursor)
    return page_of(OptOutRead, rows, nxt)


@router.delete("/notification-opt-outs/{opt_out_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=_404,
               summary="The customer may be contacted again (later messages are sent)")
async def remove_notification_opt_out(opt_out_id: UUID, principal: Dispatcher, sessions: Sessions) -> Response:
    async with transaction(sessions) as session:
        await service.remove_opt_out(session=session, opt_out_id=opt_out_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
