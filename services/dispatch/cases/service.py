"""Service-case operations: plain async functions on a session, never committing themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import domain
from services.dispatch.cases.models import (
    CaseEvent,
    CaseStatus,
    DispatchCommand,
    ServiceCase,
    ServiceRequestCreate,
)
from services.dispatch.events import emit
from shared.api.concurrency import check_if_match
from shared.api.pagination import decode_cursor
from shared.api.problems import NotFound
from shared.events import EventEnvelope
from shared.events.dispatch import (
    CaseContacts,
    ServiceDispatched,
    ServiceRequestAcknowledged,
    ServiceRequestReceived,
    TeamMember,
)


def _now() -> datetime:
    return datetime.now(UTC)


async def get(*, session: AsyncSession, case_id: UUID, for_update: bool = False) -> ServiceCase:
    stmt = select(ServiceCase).where(ServiceCase.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    case = (await session.execute(stmt)).scalar_one_or_none()
    if case is None:
        raise NotFound(f"service case {case_id} does not exist")
    return case


async def get_by_crm_reference(*, session: AsyncSession, crm_reference: str) -> ServiceCase | None:
    stmt = select(ServiceCase).where(ServiceCase.crm_reference == crm_reference)
    return (await session.execute(stmt)).scalar_one_or_none()


async def receive_request(*, session: AsyncSession, request: ServiceRequestCreate, actor: str) -> ServiceCase:
    """S1: open a case for a CRM request (the caller has checked it is not a duplicate)."""
    now = _now()
    case = ServiceCase(
        crm_reference=request.crm_reference,
        customer_name=request.customer_name,
        site_name=request.site_name,
        site_address=request.site_address,
        region=request.region,
        equipment_type=request.equipment.type,
        equipment_model=request.equipment.model,
        equipment_quantity=request.equipment.quantity,
        contract_reference=request.contract_reference,
        requested_work=request.requested_work,
        urgency=request.urgency,
        difficulty=request.difficulty,
        customer_importance=request.customer_importance,
        contacts=request.contacts.model_dump(mode="json"),
        status=CaseStatus.RECEIVED,
        created_at=now, created_by=actor, updated_at=now, updated_by=actor,
    )
    session.add(case)
    emit(session, ServiceRequestReceived(
        case_id=case.id, crm_reference=case.crm_reference, customer_name=case.customer_name,
        site_name=case.site_name, region=case.region, equipment_type=case.equipment_type,
        urgency=case.urgency, difficulty=case.difficulty, customer_importance=case.customer_importance,
    ), case_id=case.id, actor=actor)
    return case


def _touch(case: ServiceCase, actor: str) -> None:
    case.version += 1
    case.updated_at = _now()
    case.updated_by = actor


async def acknowledge(*, session: AsyncSession, case_id: UUID, actor: str, if_match: str | None) -> ServiceCase:
    """S1: a dispatcher confirms the request in the system."""
    case = await get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    domain.require_transition(CaseStatus(case.status), CaseStatus.ACKNOWLEDGED)
    case.status = CaseStatus.ACKNOWLEDGED
    case.acknowledged_by = actor
    case.acknowledged_at = _now()
    _touch(case, actor)
    emit(session, ServiceRequestAcknowledged(case_id=case.id, acknowledged_by=actor), case_id=case.id, actor=actor)
    return case


async def dispatch(
    *, session: AsyncSession, case_id: UUID, command: DispatchCommand, actor: str, if_match: str | None
) -> ServiceCase:
    """S6: send the team; ServiceDispatched carries what onsite needs for the visit."""
    case = await get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    domain.check_dispatch_gate(CaseStatus(case.status), command.team, command.planned_start, command.planned_end)
    case.status = CaseStatus.DISPATCHED
    case.team = [m.model_dump() for m in command.team]
    case.planned_start, case.planned_end = command.planned_start, command.planned_end
    case.dispatched_at = _now()
    _touch(case, actor)
    pm = next((m.engineer_id for m in command.team if m.is_project_manager), None)
    if pm is None and len(command.team) == 1:
        pm = command.team[0].engineer_id
    emit(session, ServiceDispatched(
        case_id=case.id, crm_reference=case.crm_reference, customer_name=case.customer_name,
        site_name=case.site_name, site_address=case.site_address, region=case.region,
        equipment_type=case.equipment_type,
        team=[TeamMember(**m.model_dump()) for m in command.team], project_manager_id=pm,
        contacts=CaseContacts.model_validate(case.contacts),
        planned_start=case.planned_start, planned_end=case.planned_end,
    ), case_id=case.id, actor=actor)
    return case


async def list_cases(
    *, session: AsyncSession, status: CaseStatus | None, region: str | None, limit: int, cursor: str | None
) -> list[ServiceCase]:
    """Newest first, keyset-paginated on (created_at, id)."""
    stmt = select(ServiceCase)
    if status is not None:
        stmt = stmt.where(ServiceCase.status == status)
    if region is not None:
        stmt = stmt.where(ServiceCase.region == region)
    if cursor is not None:
        created, last_id = decode_cursor(cursor)
        stmt = stmt.where(or_(ServiceCase.created_at < created,
                              and_(ServiceCase.created_at == created, ServiceCase.id < last_id)))
    stmt = stmt.order_by(ServiceCase.created_at.desc(), ServiceCase.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def record_event(*, session: AsyncSession, envelope: EventEnvelope) -> None:
    """Add any service's event to its case's timeline (idempotent by the consumer)."""
    session.add(CaseEvent(
        event_id=envelope.id, case_id=envelope.subject, event_type=envelope.type, source=envelope.source,
        actor=envelope.actor, occurred_at=envelope.time, data=envelope.data,
    ))


async def timeline(*, session: AsyncSession, case_id: UUID) -> list[CaseEvent]:
    await get(session=session, case_id=case_id)
    stmt = select(CaseEvent).where(CaseEvent.case_id == str(case_id)).order_by(CaseEvent.occurred_at)
    return list((await session.execute(stmt)).scalars())


async def move_status(*, session: AsyncSession, case_id: UUID, target: CaseStatus, actor: str) -> None:
    """Follow the visit (from onsite events); an event that arrives late never moves a case back."""
    case = (await session.execute(
        select(ServiceCase).where(ServiceCase.id == case_id).with_for_update()
    )).scalar_one_or_none()
    if case is None or not domain.can_move(CaseStatus(case.status), target):
        return
    case.status = target
    _touch(case, actor)
