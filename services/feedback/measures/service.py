"""Reading the facts behind the measures for a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.calls.models import CallStatus, FollowUpCall
from services.feedback.measures.domain import CallFact, GroupBy, ResponseFact, summarise
from services.feedback.surveys.models import SurveyResponse


async def measures(*, session: AsyncSession, start: datetime, end: datetime, group_by: GroupBy,
                   region: str | None) -> list[dict]:
    """Calls closed and survey responses answered in [start, end), grouped."""
    answered_calls = select(SurveyResponse.call_id).where(SurveyResponse.call_id.is_not(None))
    call_stmt = select(FollowUpCall, FollowUpCall.id.in_(answered_calls)).where(
        FollowUpCall.status.in_([CallStatus.COMPLETED, CallStatus.UNREACHABLE]),
        FollowUpCall.closed_at >= start, FollowUpCall.closed_at < end)
    resp_stmt = (select(SurveyResponse, FollowUpCall)
                 .join(FollowUpCall, SurveyResponse.call_id == FollowUpCall.id)
                 .where(SurveyResponse.answered_at >= start, SurveyResponse.answered_at < end))
    if region is not None:
        call_stmt = call_stmt.where(FollowUpCall.region == region)
        resp_stmt = resp_stmt.where(FollowUpCall.region == region)
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
