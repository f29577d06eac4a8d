"""Events feedback reacts to: a completed service schedules the follow-up call (S34)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.calls import service
from services.feedback.settings import FeedbackSettings
from shared.events import EventEnvelope
from shared.events.onsite import ServiceCompleted
from shared.messaging.consumer import EventHandlers


def build_handlers(settings: FeedbackSettings) -> EventHandlers:
    handlers = EventHandlers()

    @handlers.on("ServiceCompleted")
    async def schedule_follow_up(session: AsyncSession, envelope: EventEnvelope, payload: ServiceCompleted) -> None:
        await service.schedule_after_service(
            session=session, envelope=envelope, event=payload,
            delay_business_days=settings.follow_up_delay_business_days,
        )

    return handlers
