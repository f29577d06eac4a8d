"""Outbound webhooks (decision 0083): subscriptions, queueing an arrived event for the subscriptions that
want it (in the consumer's transaction), claiming due deliveries for the worker and recording attempts,
the delivery log and redrive. Nothing here commits: the caller's unit of work does."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets as random_secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases.models import ServiceCase
from services.dispatch.events import emit
from services.dispatch.webhooks import domain
from services.dispatch.webhooks.domain import AttemptOutcome, DeliveryStatus, RetryPolicy
from services.dispatch.webhooks.models import (
    RedriveSince,
    SubscriptionCreate,
    SubscriptionUpdate,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from shared.api.concurrency import check_if_match
from shared.api.pagination import keyset_page, where_given
from shared.api.problems import Conflict, NotFound
from shared.api.resources import get_or_404
from shared.clock import instants
from shared.db import table_of
from shared.events import EventEnvelope
from shared.events.dispatch import WebhookSubscriptionDisabled
from shared.messages import msg

_subscriptions = table_of(WebhookSubscription)
_deliveries = table_of(WebhookDelivery)
_events = table_of(WebhookEvent)
_attempts = table_of(WebhookAttempt)


# --- subscriptions --------------------------------------------------------------------------------

async def resolve(host: str, port: int) -> list[domain.IPAddress]:
    """The addresses `host` resolves to now (empty when it does not resolve)."""
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), 5)
    except (OSError, TimeoutError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check_url(url: str, allowed_hosts: Sequence[str]) -> domain.Target:
    """422 naming `url` unless it is HTTPS (or allow-listed) and resolves to public addresses only."""
    target = domain.parse_target(url, allowed_hosts)
    domain.check_addresses(target, await resolve(target.host, target.port), allowed_hosts)
    return target


def new_secret() -> str:
    return domain.format_secret(random_secrets.token_bytes(domain.SECRET_BYTES))


async def create(*, session: AsyncSession, body: SubscriptionCreate, actor: str, now: datetime,
                 allowed_hosts: Sequence[str]) -> WebhookSubscription:
    await check_url(body.url, allowed_hosts)
    subscription = WebhookSubscription(
        id=uuid4(), url=body.url, event_types=body.event_types, region=body.region, description=body.description,
        secret=new_secret(), created_by=actor, created_at=now, updated_at=now)
    session.add(subscription)
    return subscription


async def get(*, session: AsyncSession, subscription_id: UUID, for_update: bool = False) -> WebhookSubscription:
    return await get_or_404(session, WebhookSubscription, subscription_id, what=msg("webhook subscription"),
                            for_update=for_update)


async def list_subscriptions(*, session: AsyncSession, enabled: bool | None, limit: int,
                             cursor: str | None) -> tuple[list[WebhookSubscription], str | None]:
    stmt = where_given(select(WebhookSubscription), (col(WebhookSubscription.enabled), enabled))
    return await keyset_page(session, stmt, model=WebhookSubscription, at=col(WebhookSubscription.created_at),
                             limit=limit, cursor=cursor)


async def update_subscription(*, session: AsyncSession, subscription_id: UUID, body: SubscriptionUpdate,
                              now: datetime, if_match: str | None,
                              allowed_hosts: Sequence[str]) -> WebhookSubscription:
    subscription = await get(session=session, subscription_id=subscription_id, for_update=True)
    check_if_match(if_match, subscription.version)
    if body.url is not None:
        await check_url(body.url, allowed_hosts)
        subscription.url = body.url
    if body.all_event_types and body.event_types is not None:
        raise Conflict(msg("send either event_types or all_event_types: true, not both"))
    if body.any_region and body.region is not None:
        raise Conflict(msg("send either region or any_region: true, not both"))
    if body.event_types is not None:
        subscription.event_types = body.event_types
    elif body.all_event_types:
        subscription.event_types = None
    if body.region is not None:
        subscription.region = body.region
    elif body.any_region:
        subscription.region = None
    if body.description is not None:
        subscription.description = body.description
    if body.enabled is not None and body.enabled != subscription.enabled:
        subscription.enabled = body.enabled
        if body.enabled:  # a fresh start: the failing streak and the reason are gone
            subscription.disabled_reason, subscription.disabled_at, subscription.failing_since = None, None, None
        else:
            subscription.disabled_reason, subscription.disabled_at = "disabled by an integration admin", now
    subscription.updated_at = now
    subscription.version += 1
    return subscription


async def delete(*, session: AsyncSession, subscription_id: UUID, if_match: str | None) -> None:
    """Delete the subscription with its deliveries and their log."""
    subscription = await get(session=session, subscription_id=subscription_id, for_update=True)
    check_if_match(if_match, subscription.version)
    await session.delete(subscription)
    await session.flush()


async def rotate_secret(*, session: AsyncSession, subscription_id: UUID, grace: timedelta,
                        now: datetime) -> WebhookSubscription:
    """A new current secret; the old one signs too (a second signature) for `grace`."""
    subscription = await get(session=session, subscription_id=subscription_id, for_update=True)
    if grace > timedelta(0):
        subscription.previous_secret, subscription.previous_secret_expires_at = subscription.secret, now + grace
    else:
        subscription.previous_secret, subscription.previous_secret_expires_at = None, None
    subscription.secret = new_secret()
    subscription.updated_at = now
    subscription.version += 1
    return subscription


# --- queueing an arrived event --------------------------------------------------------------------

def _case_uuid(subject: str) -> UUID | None:
    try:
        return UUID(subject)
    except ValueError:
        return None


async def enqueue(*, session: AsyncSession, envelopes: Sequence[EventEnvelope], now: datetime) -> int:
    """Queue a consumed batch's events for every enabled subscription that wants them; called where the
    timeline rows are written, in the consumer's transaction (a redelivered event is already processed; the
    unique (subscription, event) key makes a replay harmless anyway). The subscriptions and the cases'
    regions are read once for the batch, the rows written with one statement per table. Returns the
    deliveries queued."""
    rows = (await session.execute(
        select(_subscriptions.c.id, _subscriptions.c.event_types, _subscriptions.c.region).where(
            _subscriptions.c.enabled.is_(True)))).all()
    if not rows:
        return 0
    case_ids = {e.subject: _case_uuid(e.subject) for e in envelopes}
    regions: dict[UUID | None, str | None] = {}
    if any(region is not None for _, _, region in rows) and (known := {c for c in case_ids.values() if c}):
        regions = dict((await session.execute(select(col(ServiceCase.id), col(ServiceCase.region))
                                              .where(col(ServiceCase.id).in_(known)))).tuples().all())
    queued = [(e, targets) for e in envelopes
              if (targets := [sid for sid, types, region in rows
                              if domain.wants(types, region, event_type=e.type,
                                              case_region=regions.get(case_ids[e.subject]))])]
    if not queued:
        return 0
    # Two replicas may record events of one case from two topics at once: this lock makes the
    # order of `seq` the order of the commits, so the worker never sees a later event first.
    for subject in dict.fromkeys(e.subject for e, _ in queued):
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 83))"),
                              {"key": f"webhook:{subject}"})
    await session.execute(pg_insert(_events).values([
        {"event_id": e.id, "case_id": e.subject[:64], "event_type": e.type,
         # a secret field (S34's survey link) is the customer's credential, never a subscriber's
         "body": e.redacted().model_dump_json(), "recorded_at": now} for e, _ in queued]).on_conflict_do_nothing())
    # one row per (event, subscription) in the events' order: `seq` follows it, and so does `created_at`,
    # by which the delivery log pages oldest first
    at = instants(now, len(queued))
    await session.execute(pg_insert(_deliveries).values([
        {"id": uuid4(), "subscription_id": sid, "event_id": e.id, "case_id": e.subject[:64],
         "event_type": e.type, "status": DeliveryStatus.PENDING, "attempts": 0, "created_at": when,
         "queued_at": when, "next_attempt_at": when} for (e, targets), when in zip(queued, at, strict=True)
        for sid in targets
    ]).on_conflict_do_nothing(constraint="uq_webhook_delivery_subscription_event"))
    return sum(len(targets) for _, targets in queued)


# --- the worker's side ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds (leased) and everything needed to send it."""

    id: UUID
    subscription_id: UUID
    event_id: UUID
    case_id: str
    attempts: int
    queued_at: datetime
    url: str
    secrets: tuple[str, ...]
    body: str


# `domain.next_to_send` in SQL, for every (subscription, case) at once: the earliest pending delivery of
# each that is due and not leased, at most `per_subscription` in flight per subscription (those leased
# now count), locked with SKIP LOCKED so two replicas never take the same one; then leased.
_CLAIM = text("""
WITH inflight AS (
    SELECT subscription_id, count(*) AS n FROM webhook_delivery
    WHERE status = 'pending' AND leased_until > :now
    GROUP BY subscription_id
), heads AS (
    SELECT d.id, d.subscription_id,
           row_number() OVER (PARTITION BY d.subscription_id ORDER BY d.next_attempt_at, d.seq) AS rn
    FROM webhook_delivery d
    JOIN webhook_subscription s ON s.id = d.subscription_id AND s.enabled
    WHERE d.status = 'pending' AND d.next_attempt_at <= :now
      AND (d.leased_until IS NULL OR d.leased_until <= :now)
      AND (CAST(:subscription_id AS uuid) IS NULL OR d.subscription_id = CAST(:subscription_id AS uuid))
      AND (CAST(:case_id AS text) IS NULL OR d.case_id = CAST(:case_id AS text))
      AND NOT EXISTS (
          SELECT 1 FROM webhook_delivery e
          WHERE e.subscription_id = d.subscription_id AND e.case_id = d.case_id
            AND e.status = 'pending' AND e.seq < d.seq)
), picked AS (
    SELECT d.id FROM webhook_delivery d
    JOIN heads h ON h.id = d.id
    LEFT JOIN inflight i ON i.subscription_id = h.subscription_id
    WHERE h.rn <= :per_subscription - coalesce(i.n, 0)
      AND d.status = 'pending' AND d.next_attempt_at <= :now
      AND (d.leased_until IS NULL OR d.leased_until <= :now)
    ORDER BY d.next_attempt_at, d.seq
    LIMIT :limit
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_delivery d SET leased_until = :lease_until
FROM picked WHERE d.id = picked.id
RETURNING d.id
""")


async def claim(*, session: AsyncSession, now: datetime, limit: int, per_subscription: int, lease: timedelta,
                subscription_id: UUID | None = None, case_id: str | None = None) -> list[Claimed]:
    """Lease up to `limit` deliveries that may go now (optionally of one subscription and case)."""
    if limit <= 0:
        return []
    ids = list((await session.execute(_CLAIM, {
        "now": now, "lease_until": now + lease, "limit": limit, "per_subscription": per_subscription,
        "subscription_id": subscription_id, "case_id": case_id,
    })).scalars())
    if not ids:
        return []
    rows = (await session.execute(
        select(_deliveries.c.id, _deliveries.c.subscription_id, _deliveries.c.event_id, _deliveries.c.case_id,
               _deliveries.c.attempts, _deliveries.c.queued_at, _deliveries.c.seq, _subscriptions.c.url,
               _subscriptions.c.secret, _subscriptions.c.previous_secret,
               _subscriptions.c.previous_secret_expires_at, _events.c.body)
        .join(_subscriptions, _subscriptions.c.id == _deliveries.c.subscription_id)
        .join(_events, _events.c.event_id == _deliveries.c.event_id)
        .where(_deliveries.c.id.in_(ids)).order_by(_deliveries.c.seq))).all()
    return [Claimed(id=r.id, subscription_id=r.subscription_id, event_id=r.event_id, case_id=r.case_id,
                    attempts=r.attempts, queued_at=r.queued_at, url=r.url, body=r.body,
                    secrets=tuple(domain.signing_secrets(r.secret, r.previous_secret,
                                                         r.previous_secret_expires_at, now)))
            for r in rows]


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: int
    error: str | None


async def record_attempt(*, session: AsyncSession, claimed: Claimed, result: AttemptResult, now: datetime,
                         policy: RetryPolicy, rand: float, disable_after: timedelta) -> AttemptOutcome | None:
    """The attempt goes into the log; the delivery is delivered, scheduled again or dead-lettered; the
    subscription's failing streak moves, and a subscription failing for `disable_after` is disabled
    (WebhookSubscriptionDisabled). None: the delivery is gone (its subscription was deleted)."""
    delivery = (await session.execute(
        select(WebhookDelivery).where(col(WebhookDelivery.id) == claimed.id).with_for_update())).scalar_one_or_none()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    attempt = delivery.attempts + 1
    if domain.succeeded(result.status_code):
        outcome = AttemptOutcome.DELIVERED
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
    else:
        retry_at = domain.after_failure(attempt=attempt, queued_at=delivery.queued_at, now=now, policy=policy,
                                        rand=rand)
        if retry_at is None:
            outcome = AttemptOutcome.DEAD_LETTERED
            delivery.status, delivery.dead_lettered_at = DeliveryStatus.DEAD_LETTERED, now
        else:
            outcome = AttemptOutcome.FAILED
            delivery.next_attempt_at = retry_at
    delivery.attempts, delivery.leased_until, delivery.last_attempt_at = attempt, None, now
    delivery.last_status_code, delivery.last_error = result.status_code, result.error
    session.add(WebhookAttempt(
        id=uuid4(), delivery_id=delivery.id, subscription_id=delivery.subscription_id, event_id=delivery.event_id,
        attempt=attempt, attempted_at=now, status_code=result.status_code, latency_ms=result.latency_ms,
        error=result.error, outcome=outcome))
    if outcome == AttemptOutcome.DELIVERED:
        await session.execute(update(_subscriptions).where(_subscriptions.c.id == delivery.subscription_id)
                              .values(failing_since=None, last_success_at=now))
    else:
        await _failed(session=session, subscription_id=delivery.subscription_id, now=now,
                      disable_after=disable_after)
    return outcome


async def _failed(*, session: AsyncSession, subscription_id: UUID, now: datetime, disable_after: timedelta) -> None:
    failing_since = (await session.execute(
        update(_subscriptions).where(_subscriptions.c.id == subscription_id)
        .values(failing_since=func.coalesce(_subscriptions.c.failing_since, now))
        .returning(_subscriptions.c.failing_since))).scalar_one_or_none()
    if failing_since is None or not domain.should_disable(failing_since, now, disable_after):
        return
    reason = (f"every delivery failed since {failing_since.isoformat()} "
              f"(longer than {disable_after})")
    disabled = (await session.execute(
        update(_subscriptions).where(_subscriptions.c.id == subscription_id, _subscriptions.c.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now,
                version=_subscriptions.c.version + 1)
        .returning(_subscriptions.c.url, _subscriptions.c.created_by))).one_or_none()
    if disabled is not None:
        emit(session, WebhookSubscriptionDisabled(
            subscription_id=subscription_id, url=disabled.url, owner=disabled.created_by, reason=reason,
            failing_since=failing_since, disabled_at=now), case_id=subscription_id, actor="service:dispatch")


async def release(*, session: AsyncSession, delivery_id: UUID) -> None:
    """Give back a lease without an attempt (the worker stopped before sending)."""
    await session.execute(update(_deliveries).where(_deliveries.c.id == delivery_id,
                                                    _deliveries.c.status == DeliveryStatus.PENDING)
                          .values(leased_until=None))


# --- the delivery log and redrive -----------------------------------------------------------------

async def list_deliveries(*, session: AsyncSession, subscription_id: UUID, status: str | None, limit: int,
                          cursor: str | None) -> tuple[list[WebhookDelivery], str | None]:
    await get(session=session, subscription_id=subscription_id)
    stmt = where_given(select(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == subscription_id),
                       (col(WebhookDelivery.status), status))
    return await keyset_page(session, stmt, model=WebhookDelivery, at=col(WebhookDelivery.created_at), limit=limit,
                             cursor=cursor)


async def list_attempts(*, session: AsyncSession, subscription_id: UUID, delivery_id: UUID | None, limit: int,
                        cursor: str | None) -> tuple[list[WebhookAttempt], str | None]:
    await get(session=session, subscription_id=subscription_id)
    stmt = where_given(select(WebhookAttempt).where(col(WebhookAttempt.subscription_id) == subscription_id),
                       (col(WebhookAttempt.delivery_id), delivery_id))
    return await keyset_page(session, stmt, model=WebhookAttempt, at=col(WebhookAttempt.attempted_at), limit=limit,
                             cursor=cursor)


async def redrive(*, session: AsyncSession, subscription_id: UUID, delivery_id: UUID,
                  now: datetime) -> WebhookDelivery:
    """Queue one dead-lettered or delivered delivery again: due now, a fresh retry window, the same
    `webhook-id`; it keeps its place in its case's order (later pending ones wait for it)."""
    delivery = (await session.execute(select(WebhookDelivery).where(
        col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.subscription_id) == subscription_id)
        .with_for_update())).scalar_one_or_none()
    if delivery is None:
        raise NotFound(msg("delivery {delivery_id} of webhook subscription {subscription_id} does not exist",
            delivery_id=delivery_id, subscription_id=subscription_id))
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict(msg("the delivery is still pending: it is tried again anyway"), current_status=delivery.status)
    _requeue(delivery, now)
    return delivery


def _requeue(delivery: WebhookDelivery, now: datetime) -> None:
    delivery.status, delivery.next_attempt_at, delivery.queued_at = DeliveryStatus.PENDING, now, now
    delivery.leased_until = None  # attempts keep counting: the log numbers every request of it
    delivery.delivered_at, delivery.dead_lettered_at = None, None


async def redrive_since(*, session: AsyncSession, subscription_id: UUID, body: RedriveSince, now: datetime) -> int:
    """Queue again every dead-lettered (with `include_delivered`, also delivered) delivery of the events
    recorded since `body.since`."""
    await get(session=session, subscription_id=subscription_id)
    statuses = [DeliveryStatus.DEAD_LETTERED] + ([DeliveryStatus.DELIVERED] if body.include_delivered else [])
    result = await session.execute(
        update(_deliveries)
        .where(_deliveries.c.subscription_id == subscription_id, _deliveries.c.status.in_(statuses),
               _deliveries.c.event_id.in_(select(_events.c.event_id).where(_events.c.recorded_at >= body.since)))
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now, queued_at=now, leased_until=None,
                delivered_at=None, dead_lettered_at=None)
        .returning(_deliveries.c.id))
    return len(result.all())


# --- metrics --------------------------------------------------------------------------------------

async def backlog(*, session: AsyncSession) -> list[tuple[UUID, int, float]]:
    """Per subscription with pending deliveries: how many, and the age in seconds of the oldest."""
    rows = await session.execute(
        select(_deliveries.c.subscription_id, func.count(),
               func.extract("epoch", func.now() - func.min(_deliveries.c.queued_at)))
        .where(_deliveries.c.status == DeliveryStatus.PENDING).group_by(_deliveries.c.subscription_id))
    return [(sid, int(n), float(age or 0)) for sid, n, age in rows.all()]

