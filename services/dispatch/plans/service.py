"""S4 operations on service plans."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.events import emit
from services.dispatch.plans import domain
from services.dispatch.plans.models import PlanStatus, ServicePlan, ServicePlanWrite
from shared.api.concurrency import check_if_match
from shared.api.resources import bump_version, get_or_404
from shared.clock import utcnow
from shared.events.dispatch import PlanStep, ServicePlanApproved, ServicePlanSummary
from shared.messages import msg


async def create(*, session: AsyncSession, case_id: UUID, body: ServicePlanWrite, actor: str) -> ServicePlan:
    """S4: a new draft revision of the case's plan."""
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    last = (await session.execute(select(func.max(col(ServicePlan.revision)))
                                  .where(col(ServicePlan.case_id) == case.id))).scalar_one()
    now = utcnow()
    plan = ServicePlan(case_id=case.id, revision=(last or 0) + 1, **body.model_dump(mode="json"),
                       created_by=actor, created_at=now, updated_by=actor, updated_at=now)
    session.add(plan)
    return plan


async def get(*, session: AsyncSession, plan_id: UUID, for_update: bool = False) -> ServicePlan:
    return await get_or_404(session, ServicePlan, plan_id, what=msg("service plan"), for_update=for_update)


def _touch(plan: ServicePlan, actor: str) -> None:
    bump_version(plan, actor)


async def update(*, session: AsyncSession, plan_id: UUID, body: ServicePlanWrite, actor: str,
                 if_match: str | None) -> ServicePlan:
    plan = await get(session=session, plan_id=plan_id, for_update=True)
    check_if_match(if_match, plan.version)
    domain.check_editable(plan.status)
    for key, value in body.model_dump(mode="json").items():
        setattr(plan, key, value)
    _touch(plan, actor)
    return plan


async def submit(*, session: AsyncSession, plan_id: UUID, actor: str, if_match: str | None) -> ServicePlan:
    plan = await get(session=session, plan_id=plan_id, for_update=True)
    check_if_match(if_match, plan.version)
    domain.check_submit(plan.status)
    plan.status, plan.submitted_by, plan.submitted_at = PlanStatus.SUBMITTED, actor, utcnow()
    _touch(plan, actor)
    return plan


async def approve(*, session: AsyncSession, plan_id: UUID, actor: str, if_match: str | None) -> ServicePlan:
    """S4: approval by someone other than the author -> ServicePlanApproved; older approvals superseded."""
    plan = await get(session=session, plan_id=plan_id, for_update=True)
    check_if_match(if_match, plan.version)
    domain.check_approval(plan.status, plan.created_by, actor)
    for older in (await session.execute(select(ServicePlan).where(
            col(ServicePlan.case_id) == plan.case_id, col(ServicePlan.status) == PlanStatus.APPROVED))).scalars():
        older.status = PlanStatus.SUPERSEDED
    plan.status, plan.approved_by, plan.approved_at = PlanStatus.APPROVED, actor, utcnow()
    _touch(plan, actor)
    emit(session, ServicePlanApproved(case_id=plan.case_id, plan_id=plan.id, version=plan.revision,
                                      author=plan.created_by, approved_by=actor), case_id=plan.case_id, actor=actor)
    return plan


async def plans_of(*, session: AsyncSession, case_id: UUID) -> list[ServicePlan]:
    stmt = select(ServicePlan).where(col(ServicePlan.case_id) == case_id).order_by(col(ServicePlan.revision))
    return list((await session.execute(stmt)).scalars())


async def approved_plan(*, session: AsyncSession, case_id: UUID) -> ServicePlan | None:
    stmt = select(ServicePlan).where(col(ServicePlan.case_id) == case_id,
                                     col(ServicePlan.status) == PlanStatus.APPROVED)
    return (await session.execute(stmt)).scalar_one_or_none()


def summary(plan: ServicePlan) -> ServicePlanSummary:
    """What onsite receives in ServiceDispatched."""
    return ServicePlanSummary(plan_id=plan.id, version=plan.revision, goals=plan.goals,
                              steps=[PlanStep(**s) for s in plan.steps], risk_measures=plan.risk_measures,
                              preparation_items=plan.preparation_items, report_period_days=plan.report_period_days)
