"""S6 operations: tick preparation items; the last tick emits PreparationCompleted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.conditions import service as conditions
from services.dispatch.events import emit
from services.dispatch.plans.models import ServicePlan
from services.dispatch.preparation import domain
from services.dispatch.preparation.models import PreparationChecklist, PreparationRead, TickItem
from shared.api.auth import Principal, Role
from shared.api.concurrency import check_if_match
from shared.api.problems import InvalidInput
from shared.api.resources import bump_version
from shared.clock import utcnow
from shared.events.dispatch import PreparationCompleted
from shared.messages import msg


async def checklist(*, session: AsyncSession, case_id: UUID, for_update: bool = False) -> PreparationChecklist | None:
    stmt = select(PreparationChecklist).where(col(PreparationChecklist.case_id) == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def items_of(*, session: AsyncSession, case_id: UUID,
                   found: PreparationChecklist | None) -> list[dict[str, Any]]:
    """S6: the items the newest S4 plan and the latest confirmed S2 call ask for, with the ticks recorded."""
    plan_items = (await session.execute(
        select(col(ServicePlan.preparation_items)).where(col(ServicePlan.case_id) == case_id)
        .order_by(col(ServicePlan.revision).desc()).limit(1))).scalar_one_or_none() or []
    calls = await conditions.calls_of(session=session, case_id=case_id)
    confirmed = [c for c in calls if c.outcome == "confirmed"]
    company_items = (confirmed[-1].details or {}).get("company_preparation", []) if confirmed else []
    return domain.merged(found.items if found else [], domain.fresh_items(plan_items, company_items))


def read(case_id: UUID, found: PreparationChecklist | None, items: list[dict[str, Any]]) -> PreparationRead:
    """The checklist (version 0 before anything is ticked)."""
    return PreparationRead(case_id=case_id, items=items, complete=domain.is_complete(items),
                           completed_at=found.completed_at if found else None,
                           completed_by=found.completed_by if found else None, version=found.version if found else 0)


async def tick(*, session: AsyncSession, case_id: UUID, key: str, body: TickItem, principal: Principal,
               if_match: str | None) -> PreparationChecklist:
    """S6: record who ticked what and when (the dispatcher, or an engineer of the team); completing the list
    emits PreparationCompleted."""
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    domain.check_may_tick(is_dispatcher=principal.has(Role.DISPATCHER, Role.ADMIN), subject=principal.subject,
                          team=[m["engineer_id"] for m in case.team])
    actor = principal.actor
    now = utcnow()
    found = await checklist(session=session, case_id=case.id, for_update=True)
    check_if_match(if_match, found.version if found else 0)
    if found is None:
        found = PreparationChecklist(case_id=case.id, items=[], created_at=now, updated_at=now,
                                     updated_by=actor, version=0)
        session.add(found)
    items = await items_of(session=session, case_id=case.id, found=found)
    item = next((i for i in items if i["key"] == key), None)
    if item is None:
        raise InvalidInput(msg("{key} is not a preparation item", key=key), field="key",
                           allowed=[i["key"] for i in items])
    item.update(done=body.done, note=body.note, ticked_by=actor, ticked_at=now.isoformat())
    was_complete = found.completed_at is not None
    found.items = items
    bump_version(found, actor, at=now)
    if domain.is_complete(items) and not was_complete:
        found.completed_at, found.completed_by = now, actor
        emit(session, PreparationCompleted(case_id=case.id, items=len(items), completed_by=actor),
             case_id=case.id, actor=actor)
    elif not domain.is_complete(items):
        found.completed_at = found.completed_by = None
    return found
