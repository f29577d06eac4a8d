"""Service-case operations: plain async functions on a session, never committing themselves."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import domain
from services.dispatch.cases.models import (
    CaseEvent,
    CaseSearch,
    CaseStatus,
    ServiceCase,
    ServiceRequestCreate,
)
from services.dispatch.events import emit
from services.dispatch.record import domain as record
from services.dispatch.staffing.models import EngineerAssignment
from shared.api.auth import Principal, Role
from shared.api.concurrency import check_if_match
from shared.api.pagination import keyset_page
from shared.api.problems import NotFound
from shared.api.regions import in_region_scope
from shared.api.resources import bump_version, get_or_404
from shared.clock import utcnow
from shared.db import table_of
from shared.events import EventEnvelope
from shared.events.dispatch import (
    CaseClosed,
    CaseReopened,
    ServiceRequestAcknowledged,
    ServiceRequestReceived,
)
from shared.messages import msg
from shared.messaging.outbox import OUTBOX_COLUMNS


async def get(*, session: AsyncSession, case_id: UUID, for_update: bool = False) -> ServiceCase:
    return await get_or_404(session, ServiceCase, case_id, what=msg("service case"), for_update=for_update)


def only_own_cases(principal: Principal) -> str | None:
    """An engineer without an office role sees only the cases whose team lists them: their subject."""
    office = (Role.DISPATCHER, Role.ADMIN, Role.REGIONAL_CENTRE, Role.DEPARTMENT_HEAD, Role.QUALITY_ENGINEER)
    return principal.subject if principal.has(Role.ENGINEER) and not principal.has(*office) else None


async def get_visible(*, session: AsyncSession, case_id: UUID, principal: Principal) -> ServiceCase:
    """The case, or 404 for an engineer who is not on its team or a regional centre of another
    region (no hint that it exists)."""
    case = await get(session=session, case_id=case_id)
    engineer = only_own_cases(principal)
    if engineer is not None and engineer not in {m.get("engineer_id") for m in case.team}:
        raise NotFound(msg("service case {case_id} does not exist", case_id=case_id))
    if not in_region_scope(principal, case.region):
        raise NotFound(msg("service case {case_id} does not exist", case_id=case_id))
    return case


_cases = table_of(ServiceCase)
# built once with bind parameters, so each request reuses the compiled statement
_OPEN_CASE = pg_insert(_cases).on_conflict_do_nothing(index_elements=[_cases.c.crm_reference]).returning(*_cases.c)
_CASE_BY_REFERENCE = select(*_cases.c).where(_cases.c.crm_reference == bindparam("reference"))


async def receive_request(
    *, session: AsyncSession, request: ServiceRequestCreate, actor: str
) -> tuple[dict[str, Any], bool]:
    """S1: open a case for a CRM request, or find the one already opened for its reference.

    One statement decides (`INSERT ... ON CONFLICT (crm_reference) DO NOTHING RETURNING`), so two
    deliveries of the same request racing each other open one case; the event is staged only for
    the delivery that opened it. Returns the case's row and whether this call created it.
    The unit of work of a request carrying an `Idempotency-Key`; `open_case` is the same in one statement.
    """
    values = _new_case(request, actor)
    row = (await session.execute(_OPEN_CASE, values)).mappings().one_or_none()
    if row is None:
        row = (await session.execute(_CASE_BY_REFERENCE, {"reference": request.crm_reference})).mappings().one()
        return dict(row), False
    case = dict(row)
    emit(session, _received(case), case_id=case["id"], actor=actor)
    return case, True


async def open_case(
    *, conn: asyncpg.Connection, request: ServiceRequestCreate, actor: str
) -> tuple[dict[str, Any], bool]:
    """S1 as one statement (`shared.db.one_statement`, decision 0098): the case and its outbox row are
    inserted by one `INSERT ... ON CONFLICT (crm_reference) DO NOTHING` with the outbox row's INSERT
    reading the inserted case, so the event exists exactly when this delivery opened the case, and
    both commit together. Only when the reference was already taken is the existing case read (200).
    Same answer and event as `receive_request`."""
    values = _new_case(request, actor)
    envelope = emit.envelope(_received(values), case_id=values["id"], actor=actor)
    row = await conn.fetchrow(
        _open_case_sql(tuple(values)),
        *(json.dumps(v) if isinstance(v, dict | list) else v for v in values.values()),
        envelope.id, envelope.type, envelope.version, envelope.model_dump_json(), utcnow())
    if row is None:
        row = await conn.fetchrow(_CASE_BY_REFERENCE_SQL, request.crm_reference)
        assert row is not None  # the reference conflicted, so its case exists (cases are never deleted)
        return dict(row), False
    return dict(row), True


def _new_case(request: ServiceRequestCreate, actor: str) -> dict[str, Any]:
    """The new case's columns (the rest take their defaults)."""
    now = utcnow()
    return {
        "id": uuid4(), "crm_reference": request.crm_reference, "customer_name": request.customer_name,
        "site_name": request.site_name, "site_address": request.site_address, "region": request.region,
        "equipment_type": request.equipment.type, "equipment_model": request.equipment.model,
        "equipment_quantity": request.equipment.quantity, "contract_reference": request.contract_reference,
        "requested_work": request.requested_work, "urgency": request.urgency, "difficulty": request.difficulty,
        "customer_importance": request.customer_importance, "contacts": request.contacts.model_dump(mode="json"),
        "customer_language": request.customer_language, "status": CaseStatus.RECEIVED, "team": [], "version": 1,
        "created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor,
    }


def _received(case: Mapping[str, Any]) -> ServiceRequestReceived:
    return ServiceRequestReceived(
        case_id=case["id"], crm_reference=case["crm_reference"], customer_name=case["customer_name"],
        site_name=case["site_name"], region=case["region"], equipment_type=case["equipment_type"],
        urgency=case["urgency"], difficulty=case["difficulty"], customer_importance=case["customer_importance"],
    )


_CASE_BY_REFERENCE_SQL = "SELECT * FROM service_case WHERE crm_reference = $1"


@cache
def _open_case_sql(columns: tuple[str, ...]) -> str:
    """The case's INSERT with the outbox row's INSERT reading what it inserted (a data-modifying CTE
    runs to completion whether or not the outer query reads it); parameters: the case's `columns`,
    then the event's id, type, version, envelope (JSON) and created_at."""
    n = len(columns)
    case_params = ", ".join(f"${i}" for i in range(1, n + 1))
    return (
        f"WITH opened AS (INSERT INTO service_case ({', '.join(columns)}) VALUES ({case_params}) "
        "ON CONFLICT (crm_reference) DO NOTHING RETURNING *), "
        f"queued AS (INSERT INTO outbox_message ({OUTBOX_COLUMNS}) "
        f"SELECT ${n + 1}, 'service_case', opened.id::text, ${n + 2}, ${n + 3}, ${n + 4}::jsonb, ${n + 5}, 0 "
        "FROM opened) "
        "SELECT * FROM opened"
    )


def touch(case: ServiceCase, actor: str) -> None:
    """Bump the version (ETag) and the audit columns of a changed case."""
    bump_version(case, actor)


async def acknowledge(*, session: AsyncSession, case_id: UUID, actor: str, if_match: str | None) -> ServiceCase:
    """S1: a dispatcher confirms the request in the system."""
    case = await get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    domain.require_transition(CaseStatus(case.status), CaseStatus.ACKNOWLEDGED)
    case.status = CaseStatus.ACKNOWLEDGED
    case.acknowledged_by = actor
    case.acknowledged_at = utcnow()
    touch(case, actor)
    emit(session, ServiceRequestAcknowledged(case_id=case.id, acknowledged_by=actor), case_id=case.id, actor=actor)
    return case


async def list_cases(*, session: AsyncSession, search: CaseSearch, limit: int, cursor: str | None
                     ) -> tuple[list[ServiceCase], str | None]:
    """Search cases, newest first, keyset-paginated on (created_at, id)."""
    stmt = select(ServiceCase)
    if search.status is not None:
        stmt = stmt.where(col(ServiceCase.status) == search.status)
    if search.region is not None:
        stmt = stmt.where(col(ServiceCase.region) == search.region)
    if search.customer is not None:
        stmt = stmt.where(col(ServiceCase.customer_name).ilike(f"%{_escape_like(search.customer)}%", escape="\\"))
    if search.engineer is not None:
        # through the current assignments (a plain column with real statistics), not `team @> ...`,
        # whose estimate can lead the planner to walk the whole table (docs/performance.md)
        stmt = stmt.where(col(ServiceCase.id).in_(select(col(EngineerAssignment.case_id)).where(
            col(EngineerAssignment.engineer_id) == search.engineer, col(EngineerAssignment.released_at).is_(None))))
    if search.created_from is not None:
        stmt = stmt.where(col(ServiceCase.created_at) >= search.created_from)
    if search.created_to is not None:
        stmt = stmt.where(col(ServiceCase.created_at) < search.created_to)
    if search.planned_from is not None:
        stmt = stmt.where(col(ServiceCase.planned_end) >= search.planned_from)
    if search.planned_to is not None:
        stmt = stmt.where(col(ServiceCase.planned_start) < search.planned_to)
    # keyset_page compares the cursor as a row value: an index range on (created_at, id) from the cursor
    return await keyset_page(session, stmt, model=ServiceCase, at=col(ServiceCase.created_at), limit=limit,
                             cursor=cursor, newest_first=True)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def record_event(*, session: AsyncSession, envelope: EventEnvelope) -> None:
    """Add any service's event to its case's timeline (idempotent by the consumer)."""
    # recorded_at from the handler's clock, not now(): the consumer applies a batch of events in one
    # transaction (decision 0061), where now() is the same for all of them and would lose their order
    session.add(CaseEvent(
        event_id=envelope.id, case_id=envelope.subject, event_type=envelope.type, source=envelope.source,
        actor=envelope.actor, occurred_at=envelope.time, recorded_at=utcnow(),
        data=envelope.redacted().data,  # never a credential (S34's survey link) on the timeline
    ))


async def timeline(*, session: AsyncSession, case_id: UUID, principal: Principal | None = None) -> list[CaseEvent]:
    """The whole timeline, in time order (what the conformance view judges)."""
    if principal is None:
        await get(session=session, case_id=case_id)
    else:
        await get_visible(session=session, case_id=case_id, principal=principal)
    stmt = (select(CaseEvent).where(col(CaseEvent.case_id) == str(case_id))
            .order_by(col(CaseEvent.occurred_at), col(CaseEvent.event_id)))
    return list((await session.execute(stmt)).scalars())


async def timeline_page(*, session: AsyncSession, case_id: UUID, principal: Principal, limit: int,
                        cursor: str | None) -> tuple[list[CaseEvent], str | None]:
    """One page of the timeline, oldest first, keyset-paginated on (occurred_at, event_id) like the case
    list (the same cursor), so a long commissioning is read page by page."""
    await get_visible(session=session, case_id=case_id, principal=principal)
    return await keyset_page(session, select(CaseEvent).where(col(CaseEvent.case_id) == str(case_id)),
                             model=CaseEvent, at=col(CaseEvent.occurred_at), limit=limit, cursor=cursor)


async def move_status(*, session: AsyncSession, case_id: UUID, target: CaseStatus, actor: str) -> None:
    """Follow the visit (from onsite events); an event that arrives late never moves a case back."""
    case = (await session.execute(
        select(ServiceCase).where(col(ServiceCase.id) == case_id).with_for_update()
    )).scalar_one_or_none()
    if case is None or not domain.can_move(CaseStatus(case.status), target):
        return
    case.status = target
    touch(case, actor)


async def settle_closure(*, session: AsyncSession, subject: str, event_type: str, actor: str) -> None:
    """Decision 0075: a completed case whose last duties are done is closed (CaseClosed); a closed case
    with a duty open again goes back to completed (CaseReopened). Judged on the timeline, after the
    event that may change it is recorded; only the events the closing rule reads can change it."""
    if event_type not in record.CLOSURE_EVENTS:
        return
    try:
        case_id = UUID(subject)
    except ValueError:
        return
    ending = (CaseStatus.COMPLETED, CaseStatus.CLOSED)
    # a plain read first: most such events are about cases still at work, which need no lock
    status = (await session.execute(select(col(ServiceCase.status)).where(col(ServiceCase.id) == case_id))
              ).scalar_one_or_none()
    if status not in ending:
        return
    case = (await session.execute(
        select(ServiceCase).where(col(ServiceCase.id) == case_id).with_for_update()
    )).scalar_one_or_none()
    if case is None or case.status not in ending:
        return
    rows = (await session.execute(select(CaseEvent).where(
        col(CaseEvent.case_id) == subject, col(CaseEvent.event_type).in_(record.CLOSURE_EVENTS)))).scalars()
    missing = record.closure_missing([record.TimelineEvent(e.event_id, e.event_type, e.actor, e.occurred_at, e.data)
                                      for e in rows])
    if case.status == CaseStatus.COMPLETED and not missing:
        domain.require_transition(CaseStatus.COMPLETED, CaseStatus.CLOSED)
        case.status = CaseStatus.CLOSED
        touch(case, actor)
        emit(session, CaseClosed(case_id=case.id, closed_at=case.updated_at), case_id=case.id, actor=actor)
    elif case.status == CaseStatus.CLOSED and missing:
        # not a transition of TRANSITIONS: a late copy of ServiceCompleted must never reopen a case
        case.status = CaseStatus.COMPLETED
        touch(case, actor)
        emit(session, CaseReopened(case_id=case.id, reasons=missing), case_id=case.id, actor=actor)
