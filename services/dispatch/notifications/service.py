"""Notifications to people (decision 0090): queueing the messages an arrived event calls for (in the
consumer's transaction), claiming due ones for the worker and recording the outcome, the message list,
the staff directory and opt-outs. Nothing here commits: the caller's unit of work does."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases.models import ServiceCase
from services.dispatch.notifications import domain
from services.dispatch.notifications.domain import Audience, Language, NotificationStatus
from services.dispatch.notifications.models import (
    Notification,
    NotificationOptOut,
    NotificationRecipient,
    OptOutCreate,
    RecipientCreate,
    RecipientUpdate,
)
from services.dispatch.notifications.render import render
from services.dispatch.settings import DispatchSettings
from shared.api.pagination import keyset_page, where_given
from shared.api.problems import Conflict, NotFound
from shared.clock import instants
from shared.db import table_of
from shared.events import EventEnvelope, registry
from shared.messages import msg
from shared.problems import InvalidInput
from shared.site_calendar import SiteCalendar

log = logging.getLogger(__name__)

_messages = table_of(Notification)
_recipients = table_of(NotificationRecipient)
_opt_outs = table_of(NotificationOptOut)


@dataclass(frozen=True)
class Addressee:
    """One recipient of one event's message."""

    audience: Audience
    name: str | None
    address: str
    language: Language


def _case_uuid(subject: str) -> UUID | None:
    try:
        return UUID(subject)
    except ValueError:
        return None


def _customer(case: ServiceCase | None, default: Language) -> Addressee | None:
    """The case's customer contact: by e-mail when the case holds one, else by phone (SMS)."""
    if case is None:
        return None
    contact = (case.contacts or {}).get("customer_contact") or {}
    address = contact.get("email") or contact.get("phone")
    if not address:
        return None
    return Addressee(Audience.CUSTOMER, contact.get("name"), address,
                     domain.language_of(case.customer_language, default))


async def _directory(session: AsyncSession, audiences: Collection[Audience]) -> list[NotificationRecipient]:
    """The active staff of these roles, every region (a consumed batch reads it once)."""
    return list((await session.execute(select(NotificationRecipient).where(
        col(NotificationRecipient.role).in_([a.value for a in audiences]),
        col(NotificationRecipient.active).is_(True)))).scalars())


async def _staff(session: AsyncSession, audience: Audience, region: str | None, default: Language,
                 directory: Sequence[NotificationRecipient] | None) -> list[Addressee]:
    """The staff of the role told of a case of `region`: those of that region and those of every region."""
    rows = await _directory(session, [audience]) if directory is None else directory
    return [Addressee(audience, r.name, r.address, domain.language_of(r.language, default)) for r in rows
            if r.role == audience.value and (r.region is None or r.region == region)]


def _case_view(case: ServiceCase | None, envelope: EventEnvelope) -> dict[str, Any]:
    """What templates know of the case (an event of an unknown case still reads: its data fills in)."""
    data = envelope.data
    if case is None:
        return {"id": envelope.subject, "crm_reference": data.get("crm_reference", envelope.subject),
                "customer_name": data.get("customer_name", "-"), "site_name": data.get("site_name", "-"),
                "region": data.get("region", "-")}
    return {"id": str(case.id), "crm_reference": case.crm_reference, "customer_name": case.customer_name,
            "site_name": case.site_name, "region": case.region}


async def enqueue(*, session: AsyncSession, envelopes: Sequence[EventEnvelope], now: datetime,
                  settings: DispatchSettings) -> int:
    """Queue the messages a consumed batch's events call for (see `queue`), reading the staff directory
    once for the batch; an event whose rule names nobody there (and not the customer) reads nothing more.
    Returns the messages recorded."""
    ruled = [(e, rule) for e in envelopes
             if (rule := domain.rule_for(e.type, e.data, daily_log_each=settings.notify_daily_log_each))]
    if not ruled:
        return 0
    staff = {a for _, rule in ruled for a in rule.audiences if a != Audience.CUSTOMER}
    directory = await _directory(session, staff) if staff else []
    roles = {r.role for r in directory}
    ruled = [(e, rule) for e, rule in ruled
             if Audience.CUSTOMER in rule.audiences or roles & {a.value for a in rule.audiences}]
    if cases := {c for e, _ in ruled if (c := _case_uuid(e.subject)) is not None}:
        # one query puts the batch's cases in the session, where each event's `queue` finds its own
        (await session.execute(select(ServiceCase).where(col(ServiceCase.id).in_(cases)))).scalars().all()
    queued = 0
    # the batch's messages keep their events' order in the log and in sending
    for (envelope, rule), at in zip(ruled, instants(now, len(ruled)), strict=True):
        queued += len(await queue(session=session, envelope=envelope, rule=rule, now=at, settings=settings,
                                  directory=directory))
    return queued


async def queue(*, session: AsyncSession, envelope: EventEnvelope, rule: domain.Rule, now: datetime,
                settings: DispatchSettings, gate_id: UUID | None = None,
                directory: Sequence[NotificationRecipient] | None = None) -> list[dict[str, Any]]:
    """Queue one message per recipient the event's rule names; called where the timeline row is written,
    in the consumer's transaction. Never twice for one event and recipient (unique key: a redelivered
    event adds nothing); an opted-out address is recorded `suppressed`; a customer's message waits for
    the contact window. A template that cannot render is recorded `failed`, never blocks the consumer.
    `gate_id`: an S7 reschedule waits for these messages; `directory`: the staff directory when the
    caller has read it already. Returns the rows recorded."""
    case_id = _case_uuid(envelope.subject)
    case = (await session.get(ServiceCase, case_id)) if case_id is not None else None
    region = case.region if case is not None else envelope.data.get("region")
    default = settings.notify_default_language
    addressees: list[Addressee] = []
    for audience in rule.audiences:
        if audience == Audience.CUSTOMER:
            customer = _customer(case, default)
            addressees += [customer] if customer is not None else []
        else:
            addressees += await _staff(session, audience, region, default, directory)
    if not addressees:
        return []
    opted_out = set((await session.execute(select(_opt_outs.c.address).where(
        _opt_outs.c.address.in_({domain.normalised(a.address) for a in addressees})))).scalars())
    zone = SiteCalendar.from_settings(settings).zone(region or "")
    case_view = _case_view(case, envelope)
    # an event's secret fields (S34's survey link) are rendered as markers; their values wait beside the
    # queued message and are put in by the worker, so no stored body or list answer holds them
    secrets = {name: str(envelope.data[name]) for name in registry.secret_fields(envelope.type, envelope.version)
               if envelope.data.get(name) is not None}
    data = {**envelope.data, **{name: domain.secret_marker(name) for name in secrets}}
    rows = []
    for a in addressees:
        address = domain.normalised(a.address)
        row: dict[str, Any] = {
            "id": uuid4(), "event_id": envelope.id, "event_type": envelope.type, "case_id": envelope.subject[:64],
            "region": region, "audience": a.audience.value, "recipient_name": a.name, "address": address,
            "language": a.language.value, "template": rule.template, "attempts": 0, "created_at": now,
            "next_attempt_at": now, "status": NotificationStatus.QUEUED.value, "last_error": None,
            "time_zone": getattr(zone, "key", None) if a.audience == Audience.CUSTOMER else None,
            "gate_id": gate_id, "secrets": secrets or None,
        }
        try:
            row["channel"] = domain.channel_of(address, settings.notify_messenger_schemes).value
            text_ = render(rule.template, a.language, case=case_view, data=data, event_type=envelope.type,
                           step=rule.step, audience=a.audience.value, recipient_name=a.name, zone=zone)
            row["subject"], row["body"] = domain.truncate(text_.subject, 500), text_.body
        except Exception as exc:  # a bad address or template: recorded on the message, not raised
            log.warning("notification of %s %s to %s not prepared: %s", envelope.type, envelope.id, a.audience, exc)
            row.setdefault("channel", "email")
            row.update(subject=f"{envelope.type} ({rule.step})", body="", status=NotificationStatus.FAILED.value,
                       last_error=domain.truncate(f"not prepared: {exc}"))
        if row["status"] == NotificationStatus.QUEUED and address in opted_out:
            row["status"] = NotificationStatus.SUPPRESSED.value
            row["last_error"] = "the recipient opted out"
        if row["status"] != NotificationStatus.QUEUED:
            row["secrets"] = None
        elif row["status"] == NotificationStatus.QUEUED and a.audience == Audience.CUSTOMER:
            row["next_attempt_at"] = domain.window_opens(now, zone, settings.notify_customer_window_start,
                                                         settings.notify_customer_window_end)
        rows.append(row)
    await session.execute(pg_insert(_messages).values(rows)
                          .on_conflict_do_nothing(constraint="uq_notification_event_recipient"))
    return rows


# --- the worker's side ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    """A message the worker holds (leased) and everything needed to send it."""

    id: UUID
    address: str
    channel: str
    language: str
    subject: str
    body: str
    attempts: int
    time_zone: str | None
    gate_id: UUID | None = None
    secrets: dict[str, str] | None = None


_CLAIM = text("""
UPDATE notification n SET leased_until = :lease_until
FROM (SELECT id FROM notification
      WHERE status = 'queued' AND next_attempt_at <= :now AND (leased_until IS NULL OR leased_until <= :now)
      ORDER BY next_attempt_at, created_at
      LIMIT :limit
      FOR UPDATE SKIP LOCKED) due
WHERE n.id = due.id
RETURNING n.id, n.address, n.channel, n.language, n.subject, n.body, n.attempts, n.time_zone, n.gate_id,
          n.secrets
""")


async def claim(*, session: AsyncSession, now: datetime, limit: int, lease_until: datetime) -> list[Claimed]:
    """Lease up to `limit` due messages (SKIP LOCKED: two replicas never take the same one)."""
    if limit <= 0:
        return []
    rows = (await session.execute(_CLAIM, {"now": now, "lease_until": lease_until, "limit": limit})).all()
    return [Claimed(id=r.id, address=r.address, channel=r.channel, language=r.language, subject=r.subject,
                    body=r.body, attempts=r.attempts, time_zone=r.time_zone, gate_id=r.gate_id,
                    secrets=r.secrets) for r in rows]


async def record_outcome(*, session: AsyncSession, message_id: UUID, error: str | None, now: datetime,
                         policy: domain.RetryPolicy, rand: float,
                         window: tuple[time, time]) -> NotificationStatus | None:
    """Sent, queued again for later (backoff, then the customer's window) or `failed` after the last
    attempt. None: the message is no longer queued (suppressed meanwhile)."""
    message = (await session.execute(select(Notification).where(col(Notification.id) == message_id)
                                     .with_for_update())).scalar_one_or_none()
    if message is None or message.status != NotificationStatus.QUEUED:
        return None
    message.attempts += 1
    message.leased_until, message.last_attempt_at = None, now
    if error is None:
        message.status, message.sent_at, message.last_error = NotificationStatus.SENT, now, None
        message.secrets = None  # delivered: the link's token is the customer's alone now
        return NotificationStatus.SENT
    message.last_error = domain.truncate(error)
    retry = domain.retry_at(message.attempts, now, policy, rand)
    if retry is None:
        message.status, message.secrets = NotificationStatus.FAILED, None
        return NotificationStatus.FAILED
    if message.time_zone:
        retry = domain.window_opens(retry, ZoneInfo(message.time_zone), *window)
    message.next_attempt_at = retry
    return NotificationStatus.QUEUED


async def release(*, session: AsyncSession, message_id: UUID) -> None:
    await session.execute(update(_messages).where(_messages.c.id == message_id).values(leased_until=None))


async def backlog(*, session: AsyncSession, now: datetime) -> list[tuple[str, int, float]]:
    """Per channel: messages due and not sent, and the age in seconds of the oldest (those waiting for a
    customer's window are not late)."""
    rows = await session.execute(
        select(_messages.c.channel, func.count(), func.min(_messages.c.created_at))
        .where(_messages.c.status == NotificationStatus.QUEUED, _messages.c.next_attempt_at <= now)
        .group_by(_messages.c.channel))
    return [(channel, int(n), max((now - oldest).total_seconds(), 0.0)) for channel, n, oldest in rows.all()]


# --- reading the messages -------------------------------------------------------------------------

async def list_messages(*, session: AsyncSession, case_id: str | None, status: str | None, region: str | None,
                        limit: int, cursor: str | None) -> tuple[list[Notification], str | None]:
    stmt = where_given(select(Notification), (col(Notification.case_id), case_id),
                       (col(Notification.status), status), (col(Notification.region), region))
    return await keyset_page(session, stmt, model=Notification, at=col(Notification.created_at), limit=limit,
                             cursor=cursor)


# --- the staff directory --------------------------------------------------------------------------

async def add_recipient(*, session: AsyncSession, body: RecipientCreate, actor: str, now: datetime,
                        settings: DispatchSettings) -> NotificationRecipient:
    address = domain.normalised(body.address)
    channel = _channel(address, settings)
    clash = (await session.execute(select(col(NotificationRecipient.id)).where(
        col(NotificationRecipient.role) == body.role.value, col(NotificationRecipient.address) == address,
        col(NotificationRecipient.region) == body.region if body.region is not None
        else col(NotificationRecipient.region).is_(None)))).first()
    if clash is not None:
        raise Conflict(msg("this address is already a recipient of that role and region"), recipient_id=str(clash[0]))
    recipient = NotificationRecipient(
        id=uuid4(), role=body.role.value, region=body.region, name=body.name, address=address, channel=channel,
        language=body.language.value if body.language else None, created_by=actor, created_at=now)
    session.add(recipient)
    return recipient


def _channel(address: str, settings: DispatchSettings) -> str:
    try:
        return domain.channel_of(address, settings.notify_messenger_schemes).value
    except ValueError as exc:
        raise InvalidInput(msg("address: {exc}", exc=exc), field="address") from None


async def get_recipient(*, session: AsyncSession, recipient_id: UUID) -> NotificationRecipient:
    found = await session.get(NotificationRecipient, recipient_id, with_for_update=True)
    if found is None:
        raise NotFound(msg("notification recipient {recipient_id} does not exist", recipient_id=recipient_id))
    return found


async def update_recipient(*, session: AsyncSession, recipient_id: UUID, body: RecipientUpdate,
                           settings: DispatchSettings) -> NotificationRecipient:
    recipient = await get_recipient(session=session, recipient_id=recipient_id)
    if body.name is not None:
        recipient.name = body.name
    if body.address is not None:
        recipient.address = domain.normalised(body.address)
        recipient.channel = _channel(recipient.address, settings)
    if "language" in body.model_fields_set:
        recipient.language = body.language.value if body.language else None
    if body.active is not None:
        recipient.active = body.active
    return recipient


async def remove_recipient(*, session: AsyncSession, recipient_id: UUID) -> None:
    await session.delete(await get_recipient(session=session, recipient_id=recipient_id))


async def list_recipients(*, session: AsyncSession, role: str | None, region: str | None, limit: int,
                          cursor: str | None) -> tuple[list[NotificationRecipient], str | None]:
    stmt = where_given(select(NotificationRecipient), (col(NotificationRecipient.role), role),
                       (col(NotificationRecipient.region), region))
    return await keyset_page(session, stmt, model=NotificationRecipient, at=col(NotificationRecipient.created_at),
                             limit=limit, cursor=cursor)


# --- opt-outs -------------------------------------------------------------------------------------

async def opt_out(*, session: AsyncSession, body: OptOutCreate, actor: str,
                  now: datetime) -> tuple[NotificationOptOut, int]:
    """Record that an address is not to be contacted; its queued messages become `suppressed`. Recording it
    again answers the first record. Returns the record and how many queued messages were suppressed."""
    address = domain.normalised(body.address)
    await session.execute(pg_insert(_opt_outs).values(
        id=uuid4(), address=address, reason=body.reason, case_id=body.case_id, recorded_by=actor, created_at=now,
    ).on_conflict_do_nothing(index_elements=[_opt_outs.c.address]))
    record = (await session.execute(select(NotificationOptOut).where(col(NotificationOptOut.address) == address))
              ).scalar_one()
    suppressed = await session.execute(
        update(_messages).where(_messages.c.address == address, _messages.c.status == NotificationStatus.QUEUED)
        .values(status=NotificationStatus.SUPPRESSED, last_error="the recipient opted out", leased_until=None,
                secrets=None)
        .returning(_messages.c.id))
    return record, len(suppressed.all())


async def list_opt_outs(*, session: AsyncSession, limit: int,
                        cursor: str | None) -> tuple[list[NotificationOptOut], str | None]:
    return await keyset_page(session, select(NotificationOptOut), model=NotificationOptOut,
                             at=col(NotificationOptOut.created_at), limit=limit, cursor=cursor)


async def remove_opt_out(*, session: AsyncSession, opt_out_id: UUID) -> None:
    """The customer agreed to be contacted again (later messages go; suppressed ones stay suppressed)."""
    result = await session.execute(delete(_opt_outs).where(_opt_outs.c.id == opt_out_id).returning(_opt_outs.c.id))
    if result.first() is None:
        raise NotFound(msg("notification opt-out {opt_out_id} does not exist", opt_out_id=opt_out_id))
