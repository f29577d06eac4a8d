"""S7 operation: reschedule the arrival -> ArrivalRescheduled (the team's bookings move with it)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.delays import domain
from services.dispatch.delays.models import ArrivalReschedule
from services.dispatch.events import emit
from services.dispatch.staffing import service as staffing
from services.dispatch.staffing.domain import Candidate, Requirement
from services.dispatch.staffing.models import EngineerAssignment, TeamChoice
from shared.api.concurrency import check_if_match
from shared.events.dispatch import ArrivalRescheduled


async def reschedule(*, session: AsyncSession, case_id: UUID, body: ArrivalReschedule, actor: str,
                     if_match: str | None) -> ServiceCase:
    """S7: move the planned window to the new arrival after re-checking the team under the S3 rules.

    The case and then the engineers are locked in the order S3's `assign` locks them, so a
    reschedule and an assignment of the same engineer serialise instead of both booking them.
    """
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    start, end = domain.moved_window(case.planned_start, case.planned_end, body.new_arrival)
    choices = [TeamChoice(engineer_id=m["engineer_id"], is_project_manager=bool(m.get("is_project_manager")))
               for m in case.team]
    team: list[Candidate] = []
    unknown: list[str] = []
    requirement: Requirement | None = None
    if choices and end is not None:
        requirement, _ = await staffing.requirement(session=session, case=case,
                                                    version=case.staffing_policy_version or 0)
        team, unknown = await staffing.candidates(session=session, choices=choices, start=start, end=end,
                                                  exclude_case=case.id)
    domain.check_reschedule(CaseStatus(case.status), body.customer_notified_at, body.regional_centre_notified_at,
                            team=team, unknown=unknown, requirement=requirement, start=start, end=end)
    previous = case.planned_start or case.required_arrival
    if case.planned_start is not None:
        shift = start - case.planned_start
        bookings = (await session.execute(select(EngineerAssignment).where(
            col(EngineerAssignment.case_id) == case.id, col(EngineerAssignment.released_at).is_(None))
            .order_by(col(EngineerAssignment.engineer_id)).with_for_update())).scalars()
        for booking in bookings:
            booking.planned_start, booking.planned_end = booking.planned_start + shift, booking.planned_end + shift
    case.planned_start, case.planned_end = start, end
    cases.touch(case, actor)
    emit(session, ArrivalRescheduled(
        case_id=case.id, previous_arrival=previous, new_arrival=body.new_arrival, reason=body.reason,
        customer_notified_at=body.customer_notified_at,
        regional_centre_notified_at=body.regional_centre_notified_at,
        planned_start=start, planned_end=end, engineer_ids=[c.engineer_id for c in choices],
    ), case_id=case.id, actor=actor)
    return case
