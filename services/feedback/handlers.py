"""Events feedback reacts to.

- onsite `ServiceCompleted`: schedule the rating call (S34) and keep the receipt rating (S30).
- onsite `TrainingDelivered`: keep the training evaluations (S31).
- onsite `CustomerInformationCaptured`: route it (S32).
- quality `IssueClosed` (customer-visible): schedule a fix-confirmation call (S34).
- quality `IssueLogged` from a complaint, and the issue's later events: link and show its state.

Every handler is safe when the same fact arrives again under another event id.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.calls import service as calls
from services.feedback.calls.service import CallPolicy
from services.feedback.clock import Clock
from services.feedback.complaints import service as complaints
from services.feedback.information import service as information
from services.feedback.settings import FeedbackSettings
from services.feedback.surveys import service as surveys
from shared.events import EventEnvelope
from shared.events.onsite import CustomerInformationCaptured, ServiceCompleted, TrainingDelivered
from shared.events.quality import (
    CorrectiveActionDefined,
    IssueClosed,
    IssueContained,
    IssueEscalated,
    IssueEvent,
    IssueLogged,
    IssueReopened,
    IssueResolvedOnSite,
    IssueVerified,
    PreventiveActionDefined,
    RootCauseIdentified,
)
from shared.messaging.consumer import EventHandlers


def build_handlers(settings: FeedbackSettings, clock: Clock | None = None) -> EventHandlers:
    handlers = EventHandlers()
    clock = clock or Clock()
    policy = CallPolicy.from_settings(settings)

    @handlers.on(ServiceCompleted)
    async def schedule_follow_up(session: AsyncSession, envelope: EventEnvelope, payload: ServiceCompleted) -> None:
        await calls.schedule_after_service(session=session, envelope=envelope, event=payload, policy=policy,
                                           now=clock.now())
        await surveys.record_receipt_rating(session=session, event=payload, now=clock.now())

    @handlers.on(TrainingDelivered)
    async def keep_training_evaluation(session: AsyncSession, envelope: EventEnvelope,
                                       payload: TrainingDelivered) -> None:
        await surveys.record_training_evaluation(session=session, event=payload, now=clock.now())

    @handlers.on(CustomerInformationCaptured)
    async def route_information(session: AsyncSession, envelope: EventEnvelope,
                                payload: CustomerInformationCaptured) -> None:
        await information.capture_on_site(session=session, envelope=envelope, event=payload, now=clock.now(),
                                          routing=settings.customer_info_routing)

    @handlers.on(IssueLogged)
    async def link_complaint_issue(session: AsyncSession, envelope: EventEnvelope, payload: IssueLogged) -> None:
        if payload.source != "complaint" or payload.complaint_id is None:
            return
        await complaints.link_issue(session=session, issue_id=payload.issue_id, complaint_id=payload.complaint_id,
                                    now=clock.now())

    @handlers.on(IssueClosed)
    async def confirm_fix(session: AsyncSession, envelope: EventEnvelope, payload: IssueClosed) -> None:
        await calls.schedule_fix_confirmation(session=session, envelope=envelope, event=payload, policy=policy,
                                              now=clock.now())

    @handlers.on(IssueResolvedOnSite, IssueEscalated, IssueContained, RootCauseIdentified,
                 CorrectiveActionDefined, PreventiveActionDefined, IssueVerified, IssueClosed,
                 IssueReopened)
    async def follow_complaint_issue(session: AsyncSession, envelope: EventEnvelope, payload: IssueEvent) -> None:
        await complaints.follow_issue(session=session, issue_id=payload.issue_id, event_type=envelope.type,
                                      now=clock.now())

    return handlers
