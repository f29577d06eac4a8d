"""The sending worker of notifications (decision 0090): a background job of every dispatch replica.

It leases due messages (SKIP LOCKED: never two replicas on one), hands each to the configured adapter
outside any database transaction, at most `notify_max_concurrency` at once, and records the outcome.
A failing channel only fills its own retries: other messages, and dispatch's consumer, never wait.
`clock` decides what is due (tests pin it or move it by hours).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.delays import service as delays
from services.dispatch.notifications import domain, service
from services.dispatch.notifications.adapters import Notifier, OutgoingMessage, notifier_from_settings
from services.dispatch.notifications.domain import Channel, NotificationStatus
from services.dispatch.notifications.service import Claimed
from services.dispatch.settings import DispatchSettings
from shared.api.app import ServiceRuntime
from shared.api.leasing import LeasingWorker
from shared.clock import utcnow
from shared.db import transaction
from shared.observability import NOTIFICATION_BACKLOG, NOTIFICATION_BACKLOG_AGE, NOTIFICATIONS

log = logging.getLogger(__name__)


class NotificationWorker(LeasingWorker[Claimed]):
    """Sends due messages; `run` is registered as a periodic job and keeps running until stop."""

    job_name = "send_notifications"
    claim_failure = "notification worker: claiming messages failed"

    def __init__(self, settings: DispatchSettings, *, notifier: Notifier | None = None,
                 clock: Callable[[], datetime] = utcnow, rand: Callable[[], float] = random.random) -> None:
        super().__init__(max_concurrency=settings.notify_max_concurrency, poll_seconds=settings.notify_poll_seconds)
        self.settings = settings
        self.notifier = notifier or notifier_from_settings(settings)
        self.clock = clock
        self.rand = rand
        self.policy = domain.RetryPolicy(
            base=timedelta(seconds=settings.notify_retry_base_seconds),
            max_delay=timedelta(seconds=settings.notify_retry_max_delay_seconds),
            max_attempts=settings.notify_max_attempts)
        self.window = (settings.notify_customer_window_start, settings.notify_customer_window_end)
        # a lease outlives the send it covers; a replica that dies leaves the message to the next after it
        self.lease = timedelta(seconds=settings.notify_timeout_seconds + settings.notify_lease_margin_seconds)

    async def claim(self, session: AsyncSession, limit: int) -> list[Claimed]:
        now = self.clock()
        return await service.claim(session=session, now=now, limit=limit, lease_until=now + self.lease)

    def task_name(self, row: Claimed) -> str:
        return f"notification-{row.id}"

    async def handle(self, runtime: ServiceRuntime, message: Claimed) -> None:
        """Hand the message to the adapter, then record the outcome (and settle an S7 waiting on it)."""
        error: str | None = None
        try:
            await self.notifier.send(OutgoingMessage(
                id=str(message.id), address=message.address, channel=Channel(message.channel),
                subject=message.subject, body=domain.reveal(message.body, message.secrets),
                language=message.language))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the adapter's failure, whatever it is, is this attempt's error
            error = str(exc) or type(exc).__name__
        try:
            async with transaction(runtime.sessions) as session:
                now = self.clock()
                outcome = await service.record_outcome(
                    session=session, message_id=message.id, error=error, now=now, policy=self.policy,
                    rand=self.rand(), window=self.window)
                if message.gate_id is not None and outcome in (NotificationStatus.SENT, NotificationStatus.FAILED):
                    # S7 with `inform`: the arrival moves once both sides are told (or is refused)
                    await delays.settle_informed(session=session, request_id=message.gate_id, now=now)
        except Exception:
            # the lease expires and the message is sent again: at least once
            log.exception("notification worker: recording the outcome of %s failed", message.id)
            return
        if outcome is not None:
            label = "retried" if outcome == NotificationStatus.QUEUED else outcome.value
            NOTIFICATIONS.labels(self.settings.service_name, message.channel, label).inc()


def backlog_collector(clock: Callable[[], datetime] = utcnow) -> Callable[[ServiceRuntime], Awaitable[None]]:
    async def collect_notification_backlog(runtime: ServiceRuntime) -> None:
        """/metrics: due messages not sent yet and the age of the oldest, per channel."""
        async with runtime.sessions() as session:
            rows = await service.backlog(session=session, now=clock())
        name = runtime.settings.service_name
        NOTIFICATION_BACKLOG.clear()
        NOTIFICATION_BACKLOG_AGE.clear()
        for channel, due, age in rows:
            NOTIFICATION_BACKLOG.labels(name, channel).set(due)
            NOTIFICATION_BACKLOG_AGE.labels(name, channel).set(age)

    return collect_notification_backlog
