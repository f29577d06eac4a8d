"""The scheduled side of notifications (decision 0090): S20's daily-log digest for the service department and
the retention of messages. Both are periodic jobs of every replica, safe to run on several at once (the
digest's messages are unique per region, day and recipient; a delete is a delete), on the worker's clock
(tests pin it)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from sqlalchemy import String, cast, delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases.models import CaseEvent, ServiceCase
from services.dispatch.notifications import domain, service
from services.dispatch.notifications.domain import DayLogEntry, NotificationStatus
from services.dispatch.notifications.models import Notification
from services.dispatch.notifications.worker import NotificationWorker
from services.dispatch.settings import DispatchSettings
from shared.api.app import PeriodicJob, ServiceRuntime
from shared.db import table_of, transaction
from shared.events import EventEnvelope
from shared.site_calendar import SiteCalendar

log = logging.getLogger(__name__)

_messages = table_of(Notification)
_DAY_EVENTS = ("DailyLogSubmitted", "DailyLogMissed")
RETENTION_BATCH = 5000


def digest_event_id(region: str, day: date) -> UUID:
    """The digest of one region's site day is one 'event': its messages are unique on it, so it is sent once
    (per recipient) however often and on however many replicas the job runs."""
    return uuid5(NAMESPACE_URL, f"urn:fieldservice:daily-log-digest:{region}:{day.isoformat()}")


async def _day_entries(session: AsyncSession, days: set[date],
                       since: datetime) -> dict[tuple[str, date], list[DayLogEntry]]:
    """The S20 facts on the timelines of cases, per (region, site day), for the given days."""
    rows = await session.execute(
        select(col(CaseEvent.case_id), col(CaseEvent.event_type), col(CaseEvent.data), col(ServiceCase.region),
               col(ServiceCase.crm_reference), col(ServiceCase.site_name))
        .join(ServiceCase, cast(col(ServiceCase.id), String) == col(CaseEvent.case_id))
        .where(col(CaseEvent.event_type).in_(_DAY_EVENTS), col(CaseEvent.occurred_at) >= since,
               col(CaseEvent.data)["day"].astext.in_([d.isoformat() for d in days])))
    found: dict[tuple[str, date], list[DayLogEntry]] = defaultdict(list)
    for case_id, event_type, data, region, crm_reference, site_name in rows.all():
        found[(region, date.fromisoformat(data["day"]))].append(DayLogEntry(
            case_id=case_id, crm_reference=crm_reference, site_name=site_name,
            engineer_id=str(data.get("engineer_id")), submitted=event_type == "DailyLogSubmitted",
            work_done=data.get("work_done"), progress=data.get("progress"), problems=data.get("problems")))
    return found


async def queue_daily_digests(*, session: AsyncSession, now: datetime, settings: DispatchSettings) -> int:
    """S20: queue the digest of every closed site day (of the last NOTIFY_DIGEST_LOOKBACK_DAYS) of each region
    that had daily logs or missed ones, to the region's service department. Returns the messages queued."""
    calendar = SiteCalendar.from_settings(settings)
    delay = timedelta(minutes=settings.notify_digest_delay_minutes)
    lookback = settings.notify_digest_lookback_days
    # every zone's candidate days; each region keeps those closed in its own zone
    candidates = {d for zone in {calendar.default_zone, *calendar.zones.values()}
                  for d in domain.closed_site_days(now, zone, delay, lookback)}
    # a log is written on its day or soon after (offline clients: a few days); older events are not read
    since = datetime.combine(min(candidates), datetime.min.time(), tzinfo=now.tzinfo) - timedelta(days=2)
    entries = await _day_entries(session, candidates, since)
    queued = 0
    for (region, day), facts in sorted(entries.items()):
        if day not in domain.closed_site_days(now, calendar.zone(region), delay, lookback):
            continue
        event_id = digest_event_id(region, day)
        if (await session.execute(select(_messages.c.id).where(_messages.c.event_id == event_id).limit(1))).first():
            continue  # already sent (a recipient added since then is told from the next day on)
        data = domain.daily_digest(region, day, facts)
        if data is None:
            continue
        envelope = _digest_envelope(event_id, region, day, data, now)
        rows = await service.queue(session=session, envelope=envelope, rule=domain.DIGEST_RULE, now=now,
                                   settings=settings)
        queued += len(rows)
    return queued


def _digest_envelope(event_id: UUID, region: str, day: date, data: dict[str, Any], now: datetime) -> EventEnvelope:
    """The digest as the envelope `service.queue` renders from (never published: it is dispatch's own)."""
    return EventEnvelope(id=event_id, type=domain.DIGEST_EVENT_TYPE, source="/fieldservice/dispatch", time=now,
                         subject=f"digest:{region}:{day.isoformat()}", correlationid=str(event_id),
                         actor="service:dispatch", data=data)


async def purge_old_messages(*, session: AsyncSession, now: datetime, settings: DispatchSettings) -> int:
    """Delete messages queued more than NOTIFY_RETENTION_DAYS ago (at most RETENTION_BATCH per call), with
    their addresses, names and bodies; a message still queued is kept (it is still work). Returns the count."""
    cutoff = domain.retention_cutoff(now, settings.notify_retention_days)
    if cutoff is None:
        return 0
    old = (select(_messages.c.id).where(_messages.c.created_at < cutoff,
                                        _messages.c.status != NotificationStatus.QUEUED.value)
           .limit(RETENTION_BATCH))
    result = await session.execute(delete(_messages).where(_messages.c.id.in_(old)).returning(_messages.c.id))
    return len(result.all())


def digest_job(worker: NotificationWorker) -> PeriodicJob:
    async def daily_log_digest(runtime: ServiceRuntime) -> None:
        try:
            async with transaction(runtime.sessions) as session:
                queued = await queue_daily_digests(session=session, now=worker.clock(), settings=worker.settings)
        except Exception:
            log.exception("daily-log digest: queueing failed (tried again at the next run)")
            return
        if queued:
            worker.wake()

    return daily_log_digest


def retention_job(clock: Callable[[], datetime], settings: DispatchSettings) -> PeriodicJob:
    async def notification_retention(runtime: ServiceRuntime) -> None:
        while True:
            async with transaction(runtime.sessions) as session:
                deleted = await purge_old_messages(session=session, now=clock(), settings=settings)
            if deleted:
                log.info("notification retention: %d messages deleted", deleted)
            if deleted < RETENTION_BATCH or runtime.stop.is_set():
                return

    return notification_retention
