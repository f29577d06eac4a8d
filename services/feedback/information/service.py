"""S32 operations: capture and route customer information, answer it and record telling the customer."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.calls import service as calls
from services.feedback.events import emit
from services.feedback.information import domain
from services.feedback.information.models import (
    CustomerInformation,
    InformationAnswer,
    InformationCreate,
    InfoStatus,
)
from shared.api.auth import Principal
from shared.api.concurrency import check_if_match
from shared.api.pagination import keyset_page, where_given
from shared.api.problems import NotFound
from shared.api.resources import get_or_404
from shared.events import EventEnvelope
from shared.events.feedback import CustomerInformationAnswered, CustomerInformationRouted
from shared.events.onsite import CustomerInformationCaptured
from shared.messages import msg


def _route(session: AsyncSession, info: CustomerInformation, actor: str) -> CustomerInformation:
    session.add(info)
    emit(session, CustomerInformationRouted(info_id=info.id, case_id=info.case_id, department=info.department),
         case_id=info.case_id, actor=actor)
    return info


async def capture_on_call(*, session: AsyncSession, call_id: UUID, body: InformationCreate, agent: str, actor: str,
                          now: datetime, routing: dict[str, str]) -> CustomerInformation:
    """S32: heard on a follow-up call -> routed at once -> CustomerInformationRouted."""
    call = await calls.get(session=session, call_id=call_id)
    return _route(session, CustomerInformation(
        case_id=call.case_id, call_id=call.id, visit_id=call.visit_id, source="call", kind=body.kind, text=body.text,
        customer_name=call.customer_name, region=call.region,
        department=domain.route(body.kind, call.region, routing, body.department),
        routed_at=now, captured_by=agent), actor)


async def capture_on_site(*, session: AsyncSession, envelope: EventEnvelope, event: CustomerInformationCaptured,
                          now: datetime, routing: dict[str, str]) -> CustomerInformation | None:
    """S32: heard on site (onsite's CustomerInformationCaptured) -> routed; once per item."""
    if await session.get(CustomerInformation, event.info_id) is not None:
        return None
    return _route(session, CustomerInformation(
        id=event.info_id, case_id=event.case_id, visit_id=event.visit_id, source="onsite", kind=event.kind,
        text=event.text, customer_name=event.customer_name, region=event.region,
        department=domain.route(event.kind, event.region, routing), routed_at=now,
        captured_by=envelope.actor), "service:feedback")


async def get(*, session: AsyncSession, info_id: UUID, for_update: bool = False) -> CustomerInformation:
    info = await get_or_404(session, CustomerInformation, info_id, what=msg("customer information"),
                            for_update=for_update)
    return info


async def answer(*, session: AsyncSession, info_id: UUID, body: InformationAnswer, principal: Principal,
                 now: datetime, if_match: str | None) -> CustomerInformation:
    """S32: the department's answer and the customer told -> CustomerInformationAnswered."""
    info = await get(session=session, info_id=info_id, for_update=True)
    if not domain.may_answer(info.department, roles=principal.roles, region=principal.region, unit=principal.unit):
        raise NotFound(msg("customer information {info_id} does not exist",
            info_id=info_id))  # not theirs: do not reveal it
    check_if_match(if_match, info.version)
    domain.check_answer_gate(status=info.status, answer=body.answer, notified=body.customer_notification is not None)
    note = body.customer_notification
    assert note is not None  # the gate requires it
    info.status = InfoStatus.ANSWERED
    info.answer, info.answered_by, info.answered_at = body.answer, principal.actor, now
    info.notification_channel, info.notification_text = note.channel, note.text
    info.customer_notified_at = note.notified_at
    info.version += 1
    emit(session, CustomerInformationAnswered(info_id=info.id, case_id=info.case_id, answer=info.answer,
                                              customer_notified_at=note.notified_at),
         case_id=info.case_id, actor=principal.actor)
    return info


async def list_information(
    *, session: AsyncSession, status: InfoStatus | None, department: str | None, case_id: UUID | None, limit: int,
    cursor: str | None,
) -> tuple[list[CustomerInformation], str | None]:
    """Oldest routed first (what waits longest for an answer), keyset-paginated on (routed_at, id)."""
    stmt = where_given(select(CustomerInformation), (col(CustomerInformation.status), status),
                       (col(CustomerInformation.department), department), (col(CustomerInformation.case_id), case_id))
    return await keyset_page(session, stmt, model=CustomerInformation, at=col(CustomerInformation.routed_at),
                             limit=limit, cursor=cursor)
