"""Repair-order operations (S28), never committing themselves."""

from __future__ import annotations

import secrets
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.events import emit
from services.quality.repairs import domain
from services.quality.repairs.models import RepairOrder, RepairOrderCreate, RepairStatusEntry
from shared.api.concurrency import check_if_match
from shared.api.pagination import keyset_page, where_given
from shared.api.problems import Conflict
from shared.api.resources import bump_version, get_or_404
from shared.clock import utcnow
from shared.events.onsite import RepairRequested
from shared.events.quality import RepairOrderOpened, RepairStatusChanged
from shared.messages import msg


def _receipt_number(now: datetime) -> str:
    return f"RR-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _record_status(session: AsyncSession, order: RepairOrder, status: str, note: str, *, actor: str,
                   now: datetime) -> RepairStatusEntry:
    """Record the change and the customer notification together, and emit RepairStatusChanged."""
    entry = RepairStatusEntry(
        repair_order_id=order.id, status=status, note=note, at=now, by=actor, customer_notified_at=now,
        customer_notification=domain.customer_notification(order.receipt_number, order.equipment, status, note))
    session.add(entry)
    emit(session, RepairStatusChanged(repair_order_id=order.id, case_id=order.case_id, status=status,
                                      customer_notified_at=now, note=note), case_id=order.case_id, actor=actor)
    return entry


async def open_order(*, session: AsyncSession, body: RepairOrderCreate, actor: str,
                     repair_request_id: UUID | None = None) -> RepairOrder:
    """S28: open a repair order (status received, customer told) -> RepairOrderOpened, RepairStatusChanged."""
    now = utcnow()
    receipt = body.receipt_number or _receipt_number(now)
    taken = (await session.execute(select(col(RepairOrder.id))
                                   .where(col(RepairOrder.receipt_number) == receipt))).first()
    if taken is not None:
        raise Conflict(msg("receipt number {receipt} is already used by repair order {taken}",
            receipt=receipt, taken=taken[0]))
    order = RepairOrder(**body.model_dump(exclude={"receipt_number"}), receipt_number=receipt,
                        repair_request_id=repair_request_id, created_at=now, created_by=actor, updated_at=now,
                        updated_by=actor)
    session.add(order)
    await session.flush()
    emit(session, RepairOrderOpened(repair_order_id=order.id, case_id=order.case_id, receipt_number=receipt,
                                    equipment=order.equipment), case_id=order.case_id, actor=actor)
    _record_status(session, order, "received", "", actor=actor, now=now)
    return order


async def open_from_request(*, session: AsyncSession, event: RepairRequested, actor: str) -> RepairOrder | None:
    """S28: onsite took equipment back (RepairRequested); one order per request, however often it arrives."""
    existing = (await session.execute(select(col(RepairOrder.id))
                                      .where(col(RepairOrder.repair_request_id) == event.repair_request_id))).first()
    if existing is not None:
        return None
    body = RepairOrderCreate(case_id=event.case_id, visit_id=event.visit_id, receipt_number=event.receipt_number,
                             equipment=event.equipment, serial_number=event.serial_number, fault=event.fault,
                             customer_name=event.customer_name)
    return await open_order(session=session, body=body, actor=actor, repair_request_id=event.repair_request_id)


async def change_status(*, session: AsyncSession, order_id: UUID, status: str, note: str, actor: str,
                        if_match: str | None) -> RepairOrder:
    """S28: move the repair on one step; the customer is notified of every change."""
    order = await get_or_404(session, RepairOrder, order_id, what=msg("repair order"), for_update=True)
    check_if_match(if_match, order.version)
    domain.status_change_gate(order.status, status)
    now = utcnow()
    order.status = status
    bump_version(order, actor, at=now)
    _record_status(session, order, status, note, actor=actor, now=now)
    return order


async def get(*, session: AsyncSession, order_id: UUID) -> tuple[RepairOrder, list[RepairStatusEntry]]:
    order = await get_or_404(session, RepairOrder, order_id, what=msg("repair order"))
    entries = (await session.execute(select(RepairStatusEntry)
                                     .where(col(RepairStatusEntry.repair_order_id) == order_id)
                                     .order_by(col(RepairStatusEntry.at), col(RepairStatusEntry.id)))).scalars()
    return order, list(entries)


async def search(*, session: AsyncSession, case_id: UUID | None, receipt_number: str | None, status: str | None,
                 limit: int, cursor: str | None) -> tuple[list[RepairOrder], str | None]:
    stmt = where_given(select(RepairOrder), (col(RepairOrder.case_id), case_id),
                       (col(RepairOrder.receipt_number), receipt_number), (col(RepairOrder.status), status))
    return await keyset_page(session, stmt, model=RepairOrder, at=col(RepairOrder.created_at), limit=limit,
                             cursor=cursor, newest_first=True)
