"""Events produced by the feedback service (topic `feedback.events`): S30 rating, S31, S32, S34."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from shared.events.registry import CaseEvent, event

FEEDBACK = "feedback"


class CallEvent(CaseEvent):
    """Base of follow-up call events (S34): every one names its call and case."""

    call_id: UUID


@event("FollowUpCallScheduled", producer=FEEDBACK)
class FollowUpCallScheduled(CallEvent):
    """S34: a follow-up call was put in the call centre's queue."""

    reason: Literal["service_completed", "issue_closed"]
    due_at: datetime


@event("SurveyLinkIssued", producer=FEEDBACK)
class SurveyLinkIssued(CallEvent):
    """S34: a one-time survey link for the system to send the customer (dispatch, decision 0090). `url` holds
    the link's token, a credential: it is a secret field, redacted on the case timeline, in webhook bodies
    and in the outbox once published."""

    secret_fields: ClassVar[tuple[str, ...]] = ("url",)

    link_id: UUID
    url: str
    expires_at: datetime
    questionnaire_id: str
    questionnaire_version: int


@event("FollowUpCallAttempted", producer=FEEDBACK)
class FollowUpCallAttempted(CallEvent):
    """S34: one attempt to reach the customer."""

    attempt: int
    result: Literal["reached", "no_answer", "wrong_number", "call_back"]
    agent: str


@event("FollowUpCallCompleted", producer=FEEDBACK)
class FollowUpCallCompleted(CallEvent):
    """S34: the call ended: the customer was reached, or is unreachable after the retries."""

    outcome: Literal["reached", "unreachable", "declined"]
    attempts: int
    agent: str | None = None


@event("SurveyAnswered", producer=FEEDBACK)
class SurveyAnswered(CaseEvent):
    """S34: the customer's answers to a questionnaire version (by an agent or a one-time link)."""

    response_id: UUID
    call_id: UUID | None = None
    questionnaire_id: str
    questionnaire_version: int
    csat: float | None = None
    nps: int | None = None
    channel: Literal["call", "link"]


@event("ComplaintRaised", producer=FEEDBACK)
class ComplaintRaised(CaseEvent):
    """S34: a poor score or a complaint goes back into the quality loop."""

    complaint_id: UUID
    call_id: UUID | None = None
    response_id: UUID | None = None
    text: str
    score: float | None = None
    product: str | None = None
    raised_by: str


@event("FeedbackRecorded", producer=FEEDBACK)
class FeedbackRecorded(CaseEvent):
    """S30 / S31: the receipt rating or a training evaluation stored as feedback of its kind."""

    feedback_id: UUID
    kind: Literal["receipt_rating", "training_evaluation"]
    score: float | None = None


class InformationEvent(CaseEvent):
    """Base of the events of customer information (S32): every one names its case and the information."""

    info_id: UUID


@event("CustomerInformationRouted", producer=FEEDBACK)
class CustomerInformationRouted(InformationEvent):
    """S32: an opinion, suggestion or lead routed to a department or the regional centre."""

    department: str


@event("CustomerInformationAnswered", producer=FEEDBACK)
class CustomerInformationAnswered(InformationEvent):
    """S32: the department answered and the customer was told the outcome."""

    answer: str
    customer_notified_at: datetime
