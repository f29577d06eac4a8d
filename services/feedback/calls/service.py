"""Follow-up call operations: plain async functions on a session, never committing themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.calls.domain import add_business_days
from services.feedback.calls.models import CallReason, FollowUpCall
from services.feedback.events import emit
from shared.api.problems import NotFound
from shared.events import EventEnvelope
from shared.events.feedback import FollowUpCallScheduled
from shared.events.onsite import ServiceCompleted


async def schedule_after_service(
    *, session: AsyncSession, envelope: EventEnvelope, event: ServiceCompleted, delay_business_days: int
) -> FollowUpCall:
    """S34: a completed service puts a rating call in the call centre's queue."""
    call = FollowUpCall(
        case_id=event.case_id, reason=CallReason.SERVICE_COMPLETED, source_event_id=envelope.id,
        due_at=add_business_days(event.completed_at, delay_business_days), customer_name=event.customer_name,
        region=event.region, equipment_type=event.equipment_type, engineer_ids=event.engineer_ids,
        completed_at=event.completed_at, receipt_rating=event.receipt_rating, created_at=datetime.now(UTC),
    )
    session.add(call)
    emit(session, FollowUpCallScheduled(call_id=call.id, case_id=call.case_id, reason="service_completed",
                                        due_at=call.due_at), case_id=call.case_id, actor="service:feedback")
    return call


async def get(*, session: AsyncSession, call_id: UUID) -> FollowUpCall:
    call = await session.get(FollowUpCall, call_id)
    if call is None:
        raise NotFound(f"follow-up call {call_id} does not exist")
    return call


async def list_calls(*, session: AsyncSession, case_id: UUID | None, limit: int) -> list[FollowUpCall]:
    stmt = select(FollowUpCall)
    if case_id is not None:
        stmt = stmt.where(FollowUpCall.case_id == case_id)
    stmt = stmt.order_by(FollowUpCall.due_at, FollowUpCall.id).limit(limit)
    return list((await session.execute(stmt)).scalars())
