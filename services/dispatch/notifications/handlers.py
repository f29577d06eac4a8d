"""The consumer's side of notifications (decision 0090): a handler bound to the app's settings."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.notifications import service
from services.dispatch.notifications.worker import NotificationWorker
from shared.events import EventEnvelope
from shared.messaging.consumer import Handler


def queue_notifications_handler(worker: NotificationWorker) -> Handler:
    """Runs for every event after the timeline row, in its transaction: the messages to people it calls for
    are recorded; the worker sends them later (the consumer never waits on a mail server). The worker's
    clock decides the customer's contact window (tests pin it)."""

    async def queue_notifications(session: AsyncSession, envelope: EventEnvelope, payload: object) -> None:
        await service.enqueue(session=session, envelope=envelope, now=worker.clock(), settings=worker.settings)

    return queue_notifications
