"""S22-S24 operations: register items raised on site, route them, record the answer."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.events import emit
from services.dispatch.routing import domain
from services.dispatch.routing.models import AnswerItem, MediateItem, RoutedItem, RoutedStatus, RouteItem
from shared.api.auth import Principal
from shared.api.concurrency import check_if_match
from shared.api.pagination import keyset_page, where_given
from shared.api.resources import get_or_404
from shared.clock import utcnow
from shared.events import EventEnvelope
from shared.events.dispatch import InternalDisagreementEscalated, RoutedItemAnswered, RoutedItemAssigned
from shared.events.onsite import RaisedItem
from shared.messages import msg


async def register(*, session: AsyncSession, envelope: EventEnvelope, item: RaisedItem, kind: str,
                   topic: str | None = None) -> None:
    """Track an item raised on site (once, however often the event arrives)."""
    if await session.get(RoutedItem, item.item_id) is not None:
        return
    session.add(RoutedItem(id=item.item_id, case_id=item.case_id, visit_id=item.visit_id, kind=kind, topic=topic,
                           summary=item.summary, details=item.details, raised_by=item.raised_by,
                           raised_at=envelope.time))


async def get(*, session: AsyncSession, item_id: UUID, for_update: bool = False) -> RoutedItem:
    return await get_or_404(session, RoutedItem, item_id, what=msg("routed item"), for_update=for_update)


async def route(*, session: AsyncSession, item_id: UUID, body: RouteItem, actor: str,
                if_match: str | None) -> RoutedItem:
    """S22-S24: route the item to a unit -> RoutedItemAssigned."""
    item = await get(session=session, item_id=item_id, for_update=True)
    check_if_match(if_match, item.version)
    domain.check_route(item.status)
    item.status, item.unit = RoutedStatus.ASSIGNED, body.unit
    item.assigned_by, item.assigned_at = actor, utcnow()
    item.version += 1
    emit(session, RoutedItemAssigned(case_id=item.case_id, item_id=item.id, kind=item.kind, unit=body.unit,
                                     assigned_by=actor), case_id=item.case_id, actor=actor)
    return item


async def answer(*, session: AsyncSession, item_id: UUID, body: AnswerItem, principal: Principal,
                 if_match: str | None) -> RoutedItem:
    """S22-S24: the routed unit answered (or a dispatcher on its behalf, recorded) -> RoutedItemAnswered."""
    actor = principal.actor
    item = await get(session=session, item_id=item_id, for_update=True)
    check_if_match(if_match, item.version)
    domain.check_answer(item.status)
    on_behalf = domain.answering_on_behalf(status=item.status, unit=item.unit, roles=principal.roles,
                                           principal_unit=principal.unit, principal_region=principal.region)
    item.status, item.answer, item.answered_by, item.answered_at = (RoutedStatus.ANSWERED, body.answer, actor,
                                                                    utcnow())
    item.answered_on_behalf = on_behalf
    item.version += 1
    emit(session, RoutedItemAnswered(case_id=item.case_id, item_id=item.id, kind=item.kind, answer=body.answer,
                                     answered_by=actor, unit=item.unit, on_behalf=on_behalf),
         case_id=item.case_id, actor=actor)
    return item


async def mediate(*, session: AsyncSession, item_id: UUID, body: MediateItem, principal: Principal,
                  if_match: str | None) -> RoutedItem:
    """S24: record the mediation between the units; resolved, it is the answer (RoutedItemAnswered);
    unresolved, the item escalates to the department heads -> InternalDisagreementEscalated."""
    actor = principal.actor
    item = await get(session=session, item_id=item_id, for_update=True)
    check_if_match(if_match, item.version)
    domain.check_mediation(kind=item.kind, status=item.status)
    now = utcnow()
    item.mediation, item.mediated_by, item.mediated_at = body.mediation, actor, now
    item.version += 1
    if body.resolved:
        item.status, item.answer, item.answered_by, item.answered_at = (RoutedStatus.ANSWERED, body.mediation,
                                                                        actor, now)
        emit(session, RoutedItemAnswered(case_id=item.case_id, item_id=item.id, kind=item.kind,
                                         answer=body.mediation, answered_by=actor, unit=item.unit),
             case_id=item.case_id, actor=actor)
    else:
        item.status, item.escalated_at = RoutedStatus.ESCALATED, now
        emit(session, InternalDisagreementEscalated(case_id=item.case_id, item_id=item.id, mediation=body.mediation,
                                                    mediated_by=actor, unit=item.unit),
             case_id=item.case_id, actor=actor)
    return item


async def list_items(*, session: AsyncSession, status: str | None, kind: str | None, unit: str | None,
                     case_id: UUID | None, limit: int, cursor: str | None) -> tuple[list[RoutedItem], str | None]:
    stmt = where_given(select(RoutedItem), (col(RoutedItem.status), status), (col(RoutedItem.kind), kind),
                       (col(RoutedItem.unit), unit), (col(RoutedItem.case_id), case_id))
    return await keyset_page(session, stmt, model=RoutedItem, at=col(RoutedItem.raised_at), limit=limit, cursor=cursor)
