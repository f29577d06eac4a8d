"""Events produced by the feedback service (topic `feedback.events`): S30 rating, S31, S32, S34."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from shared.events.registry import EventPayload, event

FEEDBACK = "feedback"


@event("FollowUpCallScheduled", producer=FEEDBACK)
class FollowUpCallScheduled(EventPayload):
    """S34: a follow-up call was put in the call centre's queue."""

    call_id: UUID
    case_id: UUID
    reason: Literal["service_completed", "issue_closed"]
    due_at: datetime
