"""Suggested assignment: read the roster and the cases, solve off the event loop, shape the answer."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.engineers.models import Engineer
from services.dispatch.staffing import domain as staffing_domain
from services.dispatch.staffing import service as staffing
from services.dispatch.staffing.models import EngineerAssignment
from services.dispatch.suggestions import domain
from services.dispatch.suggestions.models import (
    BatchSuggestionRequest,
    CaseSuggestionRequest,
    SuggestedMember,
    SuggestedTeam,
    SuggestionRead,
    UnstaffedCase,
)
from shared.api.problems import GateRefused
from shared.messages import msg


async def profiles(*, session: AsyncSession, exclude_cases: set[UUID]) -> list[domain.EngineerProfile]:
    """Active engineers with their skills, certificates, calendar and current assignments."""
    engineers = list((await session.execute(select(Engineer).where(col(Engineer.active).is_(True)))).scalars())
    busy: dict[str, list[staffing_domain.Busy]] = {e.id: [] for e in engineers}
    stmt = (select(EngineerAssignment).join(ServiceCase, col(ServiceCase.id) == col(EngineerAssignment.case_id))
            .where(col(EngineerAssignment.released_at).is_(None), col(ServiceCase.status).in_(staffing.ACTIVE_CASE)))
    for a in (await session.execute(stmt)).scalars():
        if a.case_id not in exclude_cases and a.engineer_id in busy:
            busy[a.engineer_id].append(staffing_domain.Busy(a.planned_start, a.planned_end, "assignment"))
    for e in engineers:
        for u in e.unavailability:
            busy[e.id].append(staffing_domain.Busy(datetime.fromisoformat(u["start"]),
                                                   datetime.fromisoformat(u["end"]), u["reason"]))
    profiles_ = []
    for e in engineers:
        certs: dict[str, date] = {}
        for c in e.certificates:
            expiry = date.fromisoformat(c["expires_on"])
            certs[c["type"]] = max(expiry, certs.get(c["type"], expiry))
        profiles_.append(domain.EngineerProfile(e.id, e.name, e.grade, e.home_region,
                                                {s["equipment_type"]: s["level"] for s in e.skills}, certs,
                                                tuple(busy[e.id])))
    return profiles_


async def _need(session: AsyncSession, case: ServiceCase, start: datetime, end: datetime) -> domain.CaseNeed:
    requirement, _ = await staffing.requirement(session=session, case=case)
    return domain.CaseNeed(str(case.id), case.region, case.equipment_type, start, end, requirement)


async def _solve(session: AsyncSession, needs: list[domain.CaseNeed], time_limit: float) -> SuggestionRead:
    engineers = await profiles(session=session, exclude_cases={UUID(n.case_id) for n in needs})
    result = await asyncio.to_thread(domain.suggest, engineers, needs, time_limit=time_limit)
    by_id = {e.engineer_id: e for e in engineers}
    teams = []
    for n in needs:
        team = result.teams.get(n.case_id)
        if team:
            teams.append(SuggestedTeam(case_id=UUID(n.case_id), planned_start=n.start, planned_end=n.end, team=[
                SuggestedMember(engineer_id=eid, name=by_id[eid].name, grade=by_id[eid].grade,
                                home_region=by_id[eid].home_region, is_project_manager=i == 0 and len(team) >= 2)
                for i, eid in enumerate(team)]))
    return SuggestionRead(solver=result.solver, status=result.status, objective=result.objective,
                          bound=result.bound, gap=result.gap, wall_time_ms=result.wall_time_ms, teams=teams,
                          unstaffed=[UnstaffedCase(case_id=UUID(k), reason=v) for k, v in result.unstaffed.items()])


async def suggest_for_case(*, session: AsyncSession, case_id: UUID, body: CaseSuggestionRequest,
                           time_limit: float) -> SuggestionRead:
    case = await cases.get(session=session, case_id=case_id)
    if case.status not in (CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED):
        raise GateRefused(msg("staff suggestion"), [msg("S3: a case that is {status} is not waiting for staff",
            status=case.status)])
    start = body.planned_start or case.required_arrival or case.planned_start
    if start is None:
        raise GateRefused(msg("staff suggestion"),
                          [msg("S2: the case has no required arrival yet: give planned_start and planned_end")])
    end = body.planned_end or start + timedelta(days=body.duration_days)
    return await _solve(session, [await _need(session, case, start, end)], time_limit)


async def suggest_batch(*, session: AsyncSession, body: BatchSuggestionRequest, time_limit: float) -> SuggestionRead:
    """All acknowledged, unstaffed cases whose required arrival falls in the period, staffed together."""
    stmt = (select(ServiceCase).where(col(ServiceCase.status) == CaseStatus.ACKNOWLEDGED,
                                      col(ServiceCase.staffed_at).is_(None),
                                      col(ServiceCase.required_arrival) >= body.arrival_from,
                                      col(ServiceCase.required_arrival) < body.arrival_to)
            .order_by(col(ServiceCase.required_arrival), col(ServiceCase.id)).limit(1000))
    waiting = list((await session.execute(stmt)).scalars())
    needs = [await _need(session, c, c.required_arrival, c.required_arrival + timedelta(days=body.duration_days))
             for c in waiting]
    return await _solve(session, needs, time_limit)
