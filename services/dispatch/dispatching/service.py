"""S6 dispatch: gather what S1-S6 recorded, apply the gate, hand the visit over to onsite."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import domain
from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus, DispatchCommand, ServiceCase
from services.dispatch.conditions import domain as conditions_domain
from services.dispatch.conditions import service as conditions
from services.dispatch.engineers.models import Engineer
from services.dispatch.events import emit
from services.dispatch.plans import service as plans
from services.dispatch.plans.models import ServicePlan
from services.dispatch.preparation import domain as preparation_domain
from services.dispatch.preparation import service as preparation
from services.dispatch.specifications import service as specifications
from services.dispatch.staffing import domain as staffing_domain
from shared.api.concurrency import check_if_match
from shared.clock import utcnow
from shared.events.dispatch import CaseContacts, CheckSheet, ServiceDispatched, TeamMember


async def readiness(*, session: AsyncSession, case: ServiceCase) -> domain.DispatchReadiness:
    """Everything the S6 gate checks, read from the case's own records."""
    calls = await conditions.calls_of(session=session, case_id=case.id)
    newest_plan = (await session.execute(
        select(col(ServicePlan.status)).where(col(ServicePlan.case_id) == case.id)
        .where(col(ServicePlan.revision) == select(func.max(col(ServicePlan.revision)))
               .where(col(ServicePlan.case_id) == case.id).scalar_subquery()))).scalar_one_or_none()
    approved = await plans.approved_plan(session=session, case_id=case.id)
    pack = await specifications.current_pack(session=session, case_id=case.id)
    checklist = await preparation.checklist(session=session, case_id=case.id)
    items = await preparation.items_of(session=session, case_id=case.id, found=checklist)
    return domain.DispatchReadiness(
        status=CaseStatus(case.status),
        conditions_confirmed=conditions_domain.conditions_confirmed(calls),
        team_size=len(case.team),
        project_managers=sum(1 for m in case.team if m.get("is_project_manager")),
        plan_status=newest_plan,
        plan_approved=approved is not None,
        pack_attached=pack is not None,
        preparation_missing=preparation_domain.missing_items(items),
        live_work_missing=await _live_work_missing(session, case, pack.sheets if pack else []),
    )


async def _live_work_missing(session: AsyncSession, case: ServiceCase, sheets: list) -> list[str]:
    """S3/S14: with live-HV work in the pack, the team's live-work certificates (pure rule in staffing)."""
    if not staffing_domain.has_live_hv_work(sheets) or not case.team:
        return []
    ids = [m["engineer_id"] for m in case.team]
    engineers = {e.id: e for e in (await session.execute(select(Engineer).where(col(Engineer.id).in_(ids)))).scalars()}
    team = []
    for engineer_id in ids:
        found = engineers.get(engineer_id)
        expiries = [date.fromisoformat(c["expires_on"]) for c in (found.certificates if found else [])
                    if c["type"] == staffing_domain.LIVE_WORK_CERTIFICATE]
        team.append((engineer_id, max(expiries) if expiries else None))
    return staffing_domain.live_work_missing(team, until=case.planned_end.date() if case.planned_end else None)


async def dispatch(*, session: AsyncSession, case_id: UUID, command: DispatchCommand, actor: str,
                   if_match: str | None) -> ServiceCase:
    """S6: the gate passes only when S2-S6 hold; ServiceDispatched carries what onsite needs."""
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    domain.check_dispatch_gate(await readiness(session=session, case=case))
    plan = await plans.approved_plan(session=session, case_id=case.id)
    pack = await specifications.current_pack(session=session, case_id=case.id)
    case.status = CaseStatus.DISPATCHED
    case.dispatched_at, case.dispatched_by = utcnow(), actor
    cases.touch(case, actor)
    team = [TeamMember(**m) for m in case.team]
    pm = next((m.engineer_id for m in team if m.is_project_manager), None)
    emit(session, ServiceDispatched(
        case_id=case.id, crm_reference=case.crm_reference, customer_name=case.customer_name,
        site_name=case.site_name, site_address=case.site_address, region=case.region,
        equipment_type=case.equipment_type, team=team, project_manager_id=pm,
        contacts=CaseContacts.model_validate(case.contacts),
        planned_start=case.planned_start, planned_end=case.planned_end, customer_deadline=case.customer_deadline,
        plan=plans.summary(plan) if plan else None,
        check_sheets=[CheckSheet.model_validate(s) for s in pack.sheets] if pack else [],
    ), case_id=case.id, actor=actor)
    return case
