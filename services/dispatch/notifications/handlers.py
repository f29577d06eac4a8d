"""The consumer's side of notifications (decision 0090): a handler bound to the app's settings."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.notifications import service
from services.dispatch.notifications.worker import NotificationWorker
from shared.events import EventEnvelope
from shared.messaging.consumer import BatchHandler


def queue_notifications_handler(worker: NotificationWorker) -> BatchHandler:
    """Runs once per consumed batch after its timeline rows, in their transaction: the messages to people its
    events call for are recorded; the worker sends them later (the consumer never waits on a mail server).
    The worker's clock decides the customer's contact window (tests pin it)."""

    async def queue_notifications(session: AsyncSession, envelopes: list[EventEnvelope]) -> None:
        await service.enqueue(session=session, envelopes=envelopes, now=worker.clock(), settings=worker.settings)

    return queue_notifications
