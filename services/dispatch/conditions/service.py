"""S2 operations: record condition calls, find and announce due postponements."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.conditions import domain
from services.dispatch.conditions.models import ConditionCall, ConditionCallCreate, DuePostponement
from services.dispatch.events import emit
from shared.api.concurrency import check_if_match
from shared.clock import utcnow
from shared.events.dispatch import PostponementDue, ServiceConditionsConfirmed, ServicePostponed


async def record_call(*, session: AsyncSession, case_id: UUID, body: ConditionCallCreate, actor: str,
                      if_match: str | None) -> ConditionCall:
    """S2: the call with the customer, confirmed (conditions) or postponed (reason, new date)."""
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    domain.check_call_allowed(str(case.status))
    now = utcnow()
    call = ConditionCall(
        case_id=case.id, outcome=body.outcome, called_at=body.called_at,
        details=body.conditions.model_dump(mode="json") if body.conditions else {},
        reason=body.reason, new_date=body.new_date, recorded_by=actor, created_at=now,
    )
    session.add(call)
    if body.conditions is not None:
        c = body.conditions
        case.site_address = c.site_address
        case.required_arrival = c.required_arrival
        case.customer_deadline = c.customer_deadline
        case.conditions_confirmed_at = body.called_at
        emit(session, ServiceConditionsConfirmed(
            case_id=case.id, site_address=c.site_address, required_arrival=c.required_arrival,
            confirmed_by=actor, called_at=body.called_at,
        ), case_id=case.id, actor=actor)
    else:
        case.conditions_confirmed_at = None
        emit(session, ServicePostponed(case_id=case.id, reason=body.reason or "", new_date=body.new_date,
                                       recorded_by=actor), case_id=case.id, actor=actor)
    cases.touch(case, actor)
    return call


async def calls_of(*, session: AsyncSession, case_id: UUID) -> list[ConditionCall]:
    stmt = select(ConditionCall).where(col(ConditionCall.case_id) == case_id).order_by(col(ConditionCall.created_at))
    return list((await session.execute(stmt)).scalars())


async def due_postponements(*, session: AsyncSession, today: date,
                            for_update: bool = False) -> list[tuple[ConditionCall, ServiceCase]]:
    """S2: postponements whose agreed date has come and that no later call has settled."""
    last_call = (select(col(ConditionCall.case_id), func.max(col(ConditionCall.created_at)).label("at"))
                 .group_by(col(ConditionCall.case_id)).subquery())
    stmt = (select(ConditionCall, ServiceCase)
            .join(last_call, (last_call.c.case_id == col(ConditionCall.case_id))
                  & (last_call.c.at == col(ConditionCall.created_at)))
            .join(ServiceCase, col(ServiceCase.id) == col(ConditionCall.case_id))
            .where(col(ConditionCall.outcome) == "postponed", col(ConditionCall.new_date) <= today,
                   col(ServiceCase.status) == CaseStatus.ACKNOWLEDGED)
            .order_by(col(ConditionCall.new_date), col(ConditionCall.case_id)))
    if for_update:
        stmt = stmt.with_for_update(of=ConditionCall, skip_locked=True)
    rows = (await session.execute(stmt)).all()
    return [(call, case) for call, case in rows if domain.postponement_due(call, today)]


def as_due(call: ConditionCall, case: ServiceCase) -> DuePostponement:
    return DuePostponement(case_id=case.id, call_id=call.id, customer_name=case.customer_name,
                           reason=call.reason or "", postponed_until=call.new_date,
                           recorded_by=call.recorded_by, due_notified_at=call.due_notified_at)


async def announce_due_postponements(*, session: AsyncSession, now: datetime) -> list[ConditionCall]:
    """Periodic S2 check: emit PostponementDue once per postponement that came due."""
    announced: list[ConditionCall] = []
    for call, case in await due_postponements(session=session, today=now.date(), for_update=True):
        if call.due_notified_at is not None:
            continue
        call.due_notified_at = now
        emit(session, PostponementDue(case_id=case.id, postponed_until=call.new_date),
             case_id=case.id, actor="service:dispatch")
        announced.append(call)
    return announced
