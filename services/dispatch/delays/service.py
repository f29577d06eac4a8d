"""S7 operation: reschedule the arrival -> ArrivalRescheduled."""

from __future__ import annotations

from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.delays import domain
from services.dispatch.delays.models import ArrivalReschedule
from services.dispatch.events import emit
from shared.api.concurrency import check_if_match
from shared.events.dispatch import ArrivalRescheduled


async def reschedule(*, session: AsyncSession, case_id: UUID, body: ArrivalReschedule, actor: str,
                     if_match: str | None) -> ServiceCase:
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    domain.check_reschedule(CaseStatus(case.status), body.customer_notified_at, body.regional_centre_notified_at)
    previous = case.planned_start or case.required_arrival
    if case.planned_start and case.planned_end:
        case.planned_end = case.planned_end + (body.new_arrival - case.planned_start)
    case.planned_start = body.new_arrival
    cases.touch(case, actor)
    emit(session, ArrivalRescheduled(
        case_id=case.id, previous_arrival=previous, new_arrival=body.new_arrival, reason=body.reason,
        customer_notified_at=body.customer_notified_at,
        regional_centre_notified_at=body.regional_centre_notified_at,
    ), case_id=case.id, actor=actor)
    return case
