"""HTTP: outbound webhook subscriptions, their delivery log and redrive (decision 0083)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from services.dispatch.settings import DispatchSettings
from services.dispatch.webhooks import service
from services.dispatch.webhooks.domain import DeliveryStatus
from services.dispatch.webhooks.models import (
    AttemptRead,
    DeliveryRead,
    Redriven,
    RedriveSince,
    SecretRotated,
    SecretRotation,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    SubscriptionUpdate,
)
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.concurrency import IfMatch, etag, with_etag
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.problems import problem_responses
from shared.db import transaction

router = APIRouter(prefix="/webhook-subscriptions", tags=["outbound webhooks"])

Integrator = Annotated[Principal, Depends(Requires(Role.INTEGRATION_ADMIN))]
_ERR = problem_responses(404, 409, 412)
_404 = problem_responses(404)
_404_409 = problem_responses(404, 409)
_404_412 = problem_responses(404, 412)


def _settings(request: Request) -> DispatchSettings:
    return request.app.state.settings


def _now(request: Request) -> datetime:
    """The worker's clock (wall time; tests move it), so grace periods and redrives agree with the worker."""
    return request.app.state.webhook_worker.clock()


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated,
             summary="Register a webhook subscription; its signing secret is shown only in this answer")
async def create_webhook_subscription(body: SubscriptionCreate, principal: Integrator, sessions: Sessions,
                              request: Request, response: Response) -> SubscriptionCreated:
    async with transaction(sessions) as session:
        subscription = await service.create(session=session, body=body, actor=principal.actor, now=_now(request),
                                            allowed_hosts=_settings(request).webhook_allowed_hosts)
    response.headers["ETag"] = etag(subscription.version)
    response.headers["Location"] = f"/webhook-subscriptions/{subscription.id}"
    return SubscriptionCreated.model_validate(subscription)


@router.get("", response_model=Page[SubscriptionRead], summary="Webhook subscriptions, oldest first")
async def list_webhook_subscriptions(principal: Integrator, sessions: Sessions, limit: PageSize = 50,
                                     cursor: Cursor = None, enabled: Annotated[bool | None, Query()] = None,
                                     ) -> Page[SubscriptionRead]:
    async with sessions() as session:
        rows, nxt = await service.list_subscriptions(session=session, enabled=enabled, limit=limit, cursor=cursor)
    return page_of(SubscriptionRead, rows, nxt)


@router.get("/{subscription_id}", response_model=SubscriptionRead, responses=_404,
            summary="One webhook subscription (never its secret)")
async def get_webhook_subscription(subscription_id: UUID, principal: Integrator, sessions: Sessions,
                           response: Response) -> SubscriptionRead:
    async with sessions() as session:
        subscription = await service.get(session=session, subscription_id=subscription_id)
    return with_etag(SubscriptionRead, subscription, response)


@router.patch("/{subscription_id}", response_model=SubscriptionRead, responses=_ERR,
              summary="Change a webhook subscription: URL, event types, region; enable or disable it")
async def update_webhook_subscription(subscription_id: UUID, body: SubscriptionUpdate, principal: Integrator,
                              sessions: Sessions, request: Request, response: Response,
                              if_match: IfMatch = None) -> SubscriptionRead:
    async with transaction(sessions) as session:
        subscription = await service.update_subscription(
            session=session, subscription_id=subscription_id, body=body, now=_now(request), if_match=if_match,
            allowed_hosts=_settings(request).webhook_allowed_hosts)
    return with_etag(SubscriptionRead, subscription, response)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=_404_412, summary="Delete a webhook subscription with its deliveries and their log")
async def delete_webhook_subscription(subscription_id: UUID, principal: Integrator, sessions: Sessions,
                              if_match: IfMatch = None) -> Response:
    async with transaction(sessions) as session:
        await service.delete(session=session, subscription_id=subscription_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{subscription_id}/secret-rotation", response_model=SecretRotated, responses=_404,
             summary="A new signing secret (shown once); the previous one also signs during the grace period")
async def rotate_webhook_secret(subscription_id: UUID, body: SecretRotation, principal: Integrator, sessions: Sessions,
                        request: Request, response: Response) -> SecretRotated:
    hours = body.grace_hours if body.grace_hours is not None else _settings(request).webhook_secret_grace_hours
    async with transaction(sessions) as session:
        subscription = await service.rotate_secret(session=session, subscription_id=subscription_id,
                                                   grace=timedelta(hours=hours), now=_now(request))
    response.headers["ETag"] = etag(subscription.version)
    return SecretRotated(subscription_id=subscription.id, secret=subscription.secret,
                         previous_secret_expires_at=subscription.previous_secret_expires_at)


@router.get("/{subscription_id}/deliveries", response_model=Page[DeliveryRead], responses=_404,
            summary="The subscription's deliveries (one per event), oldest first")
async def list_webhook_deliveries(subscription_id: UUID, principal: Integrator, sessions: Sessions,
                                  limit: PageSize = 50, cursor: Cursor = None,
                          delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
                          ) -> Page[DeliveryRead]:
    async with sessions() as session:
        rows, nxt = await service.list_deliveries(session=session, subscription_id=subscription_id,
                                                  status=delivery_status, limit=limit, cursor=cursor)
    return page_of(DeliveryRead, rows, nxt)


@router.get("/{subscription_id}/attempts", response_model=Page[AttemptRead], responses=_404,
            summary="The delivery log: every request (attempt, status code, latency, error), oldest first")
async def list_webhook_attempts(subscription_id: UUID, principal: Integrator, sessions: Sessions, limit: PageSize = 50,
                        cursor: Cursor = None, delivery_id: Annotated[UUID | None, Query()] = None,
                        ) -> Page[AttemptRead]:
    async with sessions() as session:
        rows, nxt = await service.list_attempts(session=session, subscription_id=subscription_id,
                                                delivery_id=delivery_id, limit=limit, cursor=cursor)
    return page_of(AttemptRead, rows, nxt)


@router.post("/{subscription_id}/deliveries/{delivery_id}/redrive", response_model=DeliveryRead, responses=_404_409,
             summary="Send a dead-lettered (or delivered) delivery again")
async def redrive_webhook_delivery(subscription_id: UUID, delivery_id: UUID, principal: Integrator,
                                   sessions: Sessions, request: Request) -> DeliveryRead:
    async with transaction(sessions) as session:
        delivery = await service.redrive(session=session, subscription_id=subscription_id,
                                         delivery_id=delivery_id, now=_now(request))
    return DeliveryRead.model_validate(delivery)


@router.post("/{subscription_id}/redrive", response_model=Redriven, responses=_404,
             summary="Send again the dead-lettered deliveries of the events recorded since a time")
async def redrive_webhook_deliveries(subscription_id: UUID, body: RedriveSince, principal: Integrator,
                                     sessions: Sessions, request: Request) -> Redriven:
    async with transaction(sessions) as session:
        count = await service.redrive_since(session=session, subscription_id=subscription_id, body=body,
                                            now=_now(request))
    return Redriven(redriven=count)
