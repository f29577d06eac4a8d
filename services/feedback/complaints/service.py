"""Complaint operations: raise them, and follow the quality issue each one became."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.complaints.models import Complaint
from services.feedback.events import emit
from shared.api.pagination import keyset_page, where_given
from shared.api.resources import get_or_404
from shared.events.feedback import ComplaintRaised
from shared.messages import msg

# Quality's issue events and the state each one means for the customer's complaint.
ISSUE_STATES = {
    "IssueLogged": "logged",
    "IssueResolvedOnSite": "resolved_on_site",
    "IssueEscalated": "escalated",
    "IssueContained": "contained",
    "RootCauseIdentified": "root_cause_identified",
    "CorrectiveActionDefined": "corrective_action_defined",
    "PreventiveActionDefined": "preventive_action_defined",
    "IssueVerified": "verified",
    "IssueClosed": "closed",
    "IssueReopened": "reopened",
}


def raise_complaint(
    session: AsyncSession, *, case_id: UUID, call_id: UUID | None, response_id: UUID | None, text: str,
    score: float | None, product: str | None, actor: str, now: datetime,
) -> Complaint:
    """S34: a complaint goes back into the quality loop -> ComplaintRaised (quality makes it an issue)."""
    complaint = Complaint(case_id=case_id, call_id=call_id, response_id=response_id, text=text[:4000], score=score,
                          product=product or None, raised_by=actor, raised_at=now)
    session.add(complaint)
    emit(session, ComplaintRaised(complaint_id=complaint.id, case_id=case_id, call_id=call_id,
                                  response_id=response_id, text=complaint.text, score=score,
                                  product=complaint.product, raised_by=actor), case_id=case_id, actor=actor)
    return complaint


async def link_issue(*, session: AsyncSession, issue_id: UUID, complaint_id: UUID,
                     now: datetime) -> Complaint | None:
    """S34: quality logged an issue from the complaint the event names: link the two. Never guessed from
    the order of complaints (a dead-lettered event would shift every later link); a repeated IssueLogged
    changes nothing."""
    stmt = select(Complaint).where(col(Complaint.id) == complaint_id).with_for_update()
    complaint = (await session.execute(stmt)).scalars().first()
    if complaint is None or complaint.issue_id == issue_id:
        return None
    complaint.issue_id = issue_id
    complaint.issue_state = ISSUE_STATES["IssueLogged"]
    complaint.issue_updated_at = now
    return complaint


async def follow_issue(*, session: AsyncSession, issue_id: UUID, event_type: str, now: datetime) -> int:
    """A later event of a linked issue updates the state the call record shows."""
    state = ISSUE_STATES.get(event_type)
    if state is None:
        return 0
    complaints = list((await session.execute(
        select(Complaint).where(col(Complaint.issue_id) == issue_id).with_for_update())).scalars())
    for complaint in complaints:
        complaint.issue_state = state
        complaint.issue_updated_at = now
    return len(complaints)


async def for_call(*, session: AsyncSession, call_id: UUID) -> list[Complaint]:
    stmt = select(Complaint).where(col(Complaint.call_id) == call_id).order_by(col(Complaint.raised_at))
    return list((await session.execute(stmt)).scalars())


async def get(*, session: AsyncSession, complaint_id: UUID) -> Complaint:
    return await get_or_404(session, Complaint, complaint_id, what=msg("complaint"))


async def list_complaints(*, session: AsyncSession, case_id: UUID | None, limit: int,
                          cursor: str | None) -> tuple[list[Complaint], str | None]:
    """Newest first, keyset-paginated on (raised_at, id)."""
    stmt = where_given(select(Complaint), (col(Complaint.case_id), case_id))
    return await keyset_page(session, stmt, model=Complaint, at=col(Complaint.raised_at),
                             limit=limit, cursor=cursor, newest_first=True)
