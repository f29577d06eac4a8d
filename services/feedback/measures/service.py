"""Reading the facts behind the measures for a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.calls.models import CallStatus, FollowUpCall
from services.feedback.measures.domain import CallFact, GroupBy, ResponseFact, summarise
from services.feedback.surveys.models import SurveyResponse


async def measures(*, session: AsyncSession, start: datetime, end: datetime, group_by: GroupBy,
                   region: str | None) -> list[dict]:
    """Calls closed and survey responses answered in [start, end), grouped."""
    answered_calls = select(col(SurveyResponse.call_id)).where(col(SurveyResponse.call_id).is_not(None))
    call_stmt = select(FollowUpCall, col(FollowUpCall.id).in_(answered_calls)).where(
        col(FollowUpCall.status).in_([CallStatus.COMPLETED, CallStatus.UNREACHABLE]),
        col(FollowUpCall.closed_at) >= start, col(FollowUpCall.closed_at) < end)
    resp_stmt = (select(SurveyResponse, FollowUpCall)
                 .join(FollowUpCall, col(SurveyResponse.call_id) == col(FollowUpCall.id))
                 .where(col(SurveyResponse.answered_at) >= start, col(SurveyResponse.answered_at) < end))
    if region is not None:
        call_stmt = call_stmt.where(col(FollowUpCall.region) == region)
        resp_stmt = resp_stmt.where(col(FollowUpCall.region) == region)
    calls = [
        CallFact(closed_at=c.closed_at, region=c.region, equipment_type=c.equipment_type,
                 engineer_ids=tuple(c.engineer_ids), unreachable=c.status == CallStatus.UNREACHABLE,
                 answered=bool(answered), completed_at=c.completed_at, first_attempt_at=c.first_attempt_at)
        for c, answered in (await session.execute(call_stmt)).all()
    ]
    responses = [
        ResponseFact(answered_at=r.answered_at, region=c.region, equipment_type=c.equipment_type,
                     engineer_ids=tuple(c.engineer_ids), csat=r.csat, nps=r.nps)
        for r, c in (await session.execute(resp_stmt)).all()
    ]
    return summarise(calls, responses, group_by)
