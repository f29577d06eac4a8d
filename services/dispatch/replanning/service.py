"""Replanning: read the plan ahead, solve a repair off the event loop, apply it through S3 and S7."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.delays import service as delays
from services.dispatch.delays.models import ArrivalReschedule
from services.dispatch.engineers import service as roster
from services.dispatch.engineers.models import Engineer
from services.dispatch.replanning import domain
from services.dispatch.replanning.models import (
    AffectedCase,
    AppliedChange,
    ArrivalWindow,
    ArrivalWindows,
    EngineerReplanning,
    RepairApplication,
    RepairApplied,
    RepairChange,
    RepairRead,
    UnrepairedCase,
    UrgentFit,
)
from services.dispatch.settings import DispatchSettings
from services.dispatch.specifications.models import SpecificationPack
from services.dispatch.staffing import domain as staffing_domain
from services.dispatch.staffing import service as staffing
from services.dispatch.staffing.models import AssignEngineers, EngineerAssignment
from services.dispatch.suggestions import service as suggestions
from services.dispatch.suggestions.domain import CaseNeed, EngineerProfile
from services.dispatch.suggestions.models import SuggestedMember
from shared.api.concurrency import etag
from shared.api.problems import GateRefused, InvalidInput
from shared.clock import utcnow
from shared.messages import msg

RESTAFFABLE = (CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED)  # S3 assigns before dispatch; after it, S12


@dataclass
class Plan:
    """The plan ahead: who is booked on which active case, and the roster's calendars."""

    engineers: list[EngineerProfile]
    rows: dict[str, ServiceCase]
    needs: list[CaseNeed]
    teams: dict[str, list[str]]

    def frozen(self) -> set[str]:
        return {cid for cid, row in self.rows.items() if row.status not in RESTAFFABLE}


def _calendar(e: Engineer) -> tuple[staffing_domain.Busy, ...]:
    return tuple(staffing_domain.Busy(datetime.fromisoformat(u["start"]), datetime.fromisoformat(u["end"]),
                                      u["reason"]) for u in e.unavailability)


def _profile(e: Engineer, busy: tuple[staffing_domain.Busy, ...]) -> EngineerProfile:
    certs: dict[str, date] = {}
    for c in e.certificates:
        expiry = date.fromisoformat(c["expires_on"])
        certs[c["type"]] = max(expiry, certs.get(c["type"], expiry))
    return EngineerProfile(e.id, e.name, e.grade, e.home_region, {s["equipment_type"]: s["level"] for s in e.skills},
                           certs, busy)


async def _requirements(session: AsyncSession, rows: list[ServiceCase]) -> dict[str, staffing_domain.Requirement]:
    """S3 requirements under the current policy (what the gate checks at apply time), read in bulk."""
    policy = await staffing.current_policy(session=session)
    packs: dict[UUID, list] = {}
    if rows:
        stmt = select(col(SpecificationPack.case_id), col(SpecificationPack.sheets)).where(
            col(SpecificationPack.case_id).in_([r.id for r in rows]), col(SpecificationPack.superseded_at).is_(None))
        packs = {cid: sheets for cid, sheets in (await session.execute(stmt)).all()}
    return {str(r.id): staffing_domain.requirement_for(
        policy.rules, policy.required_certificates, urgency=r.urgency, difficulty=r.difficulty,
        customer_importance=r.customer_importance, equipment_type=r.equipment_type,
        live_hv=staffing_domain.has_live_hv_work(packs.get(r.id) or [])) for r in rows}


async def plan_ahead(*, session: AsyncSession, since: datetime, exclude: Collection[UUID] = ()) -> Plan:
    """Every active case with bookings ending after `since`, its team and window; the roster with its
    calendar only (bookings are the plan, not busy time: the solver may move them)."""
    stmt = (select(EngineerAssignment).join(ServiceCase, col(ServiceCase.id) == col(EngineerAssignment.case_id))
            .where(col(EngineerAssignment.released_at).is_(None), col(ServiceCase.status).in_(staffing.ACTIVE_CASE),
                   col(EngineerAssignment.planned_end) > since)
            .order_by(col(EngineerAssignment.case_id), col(EngineerAssignment.engineer_id)))
    teams: dict[str, list[str]] = {}
    windows: dict[str, tuple[datetime, datetime]] = {}
    for a in (await session.execute(stmt)).scalars():
        if a.case_id in exclude:
            continue
        cid = str(a.case_id)
        teams.setdefault(cid, []).append(a.engineer_id)
        s, e = windows.get(cid, (a.planned_start, a.planned_end))
        windows[cid] = (min(s, a.planned_start), max(e, a.planned_end))
    rows: dict[str, ServiceCase] = {}
    if teams:
        found = (await session.execute(select(ServiceCase).where(col(ServiceCase.id).in_(
            [UUID(c) for c in teams])))).scalars()
        rows = {str(r.id): r for r in found}
    required = await _requirements(session, list(rows.values()))
    needs = [CaseNeed(cid, rows[cid].region, rows[cid].equipment_type, *windows[cid],
                      replace(required[cid], head_count=len(team)))  # the team size is what stays
             for cid, team in teams.items() if cid in rows]
    engineers = [_profile(e, _calendar(e)) for e in
                 (await session.execute(select(Engineer).where(col(Engineer.active).is_(True)))).scalars()]
    return Plan(engineers, rows, needs, teams)


def _members(ids: list[str] | tuple[str, ...], by_id: dict[str, EngineerProfile]) -> list[SuggestedMember]:
    return [SuggestedMember(engineer_id=eid, name=by_id[eid].name if eid in by_id else eid,
                            grade=by_id[eid].grade if eid in by_id else 0,
                            home_region=by_id[eid].home_region if eid in by_id else "",
                            is_project_manager=i == 0 and len(ids) >= 2)
            for i, eid in enumerate(ids)]


def _read(plan: Plan, fix: domain.Repair, affected: list[str], targets: set[str],
          unrepairable: dict[str, str]) -> RepairRead:
    by_id = {e.engineer_id: e for e in plan.engineers}
    changes = [RepairChange(case_id=UUID(ch.case_id), case_version=plan.rows[ch.case_id].version, kind=ch.kind,
                            before=list(ch.before), team=_members(ch.after, by_id), planned_start=ch.start,
                            planned_end=ch.end, previous_start=ch.previous_start,
                            changed_assignments=ch.changed_assignments, cost_change=ch.cost_change)
               for ch in fix.changes]
    needs = {n.case_id: n for n in plan.needs}
    return RepairRead(
        status=fix.status if targets else "none",
        affected=[AffectedCase(case_id=UUID(cid), crm_reference=plan.rows[cid].crm_reference,
                               status=plan.rows[cid].status, planned_start=needs[cid].start,
                               planned_end=needs[cid].end, team=plan.teams.get(cid, [])) for cid in affected],
        changes=changes,
        unrepaired=[UnrepairedCase(case_id=UUID(k), reason=v) for k, v in {**unrepairable, **fix.unrepaired}.items()],
        changed_assignments=fix.changed_assignments,
        other_cases_changed=sum(1 for ch in fix.changes if ch.case_id not in targets),
        cost_change=fix.cost_change, wall_time_ms=fix.wall_time_ms, neighbourhood=fix.neighbourhood)


async def replan_for_engineer(*, session: AsyncSession, engineer_id: str, body: EngineerReplanning,
                              time_limit: float) -> RepairRead:
    """S3 after an engineer's leave (or their leaving the roster): the affected cases and a repair."""
    engineer = await roster.get(session=session, engineer_id=engineer_id)
    since = body.since or utcnow()
    plan = await plan_ahead(session=session, since=since)
    calendar = [(b.start, b.end) for b in _calendar(engineer)]
    affected = domain.affected_cases(engineer.id, since, plan.needs, plan.teams, calendar,
                                     pulled_off=not engineer.active)
    frozen = plan.frozen()
    unrepairable = {cid: f"the case is {plan.rows[cid].status}: add staff through a staffing request (S12)"
                    for cid in affected if cid in frozen}
    targets = [cid for cid in affected if cid not in frozen]
    shifts = {cid: [timedelta(days=d) for d in range(1, body.max_shift_days + 1)] for cid in targets
              if plan.rows[cid].status == CaseStatus.ACKNOWLEDGED}  # S7 moves an acknowledged case's arrival
    fix = await asyncio.to_thread(domain.repair, plan.engineers, plan.needs, plan.teams, targets, frozen=frozen,
                                  shifts=shifts, max_swaps=body.max_swaps, time_limit=time_limit)
    return _read(plan, fix, affected, set(targets), unrepairable)


async def fit_urgent_case(*, session: AsyncSession, case_id: UUID, body: UrgentFit, time_limit: float) -> RepairRead:
    """S3 for an urgent case: staff it in its window, everything else pinned but a few swaps."""
    case = await cases.get(session=session, case_id=case_id)
    if case.status not in RESTAFFABLE:
        raise GateRefused(msg("staff suggestion"), [msg("S3: a case that is {status} is not waiting for staff",
                                                        status=case.status)])
    start = body.planned_start or case.required_arrival
    if start is None:
        raise GateRefused(msg("staff suggestion"),
                          [msg("S2: the case has no required arrival yet: give planned_start and planned_end")])
    end = body.planned_end or start + timedelta(days=body.duration_days)
    plan = await plan_ahead(session=session, since=start, exclude={case.id})
    requirement = (await _requirements(session, [case]))[str(case.id)]
    urgent = CaseNeed(str(case.id), case.region, case.equipment_type, start, end, requirement)
    plan.rows[urgent.case_id] = case
    plan.needs.append(urgent)
    fix = await asyncio.to_thread(domain.repair, plan.engineers, plan.needs, plan.teams, [urgent.case_id],
                                  frozen=plan.frozen(), max_swaps=body.max_swaps, time_limit=time_limit)
    return _read(plan, fix, [], {urgent.case_id}, {})


async def apply_repair(*, session: AsyncSession, body: RepairApplication, actor: str, now: datetime,
                       settings: DispatchSettings) -> RepairApplied:
    """Apply a repair in one unit of work: each change through the S3 gate (a new team: `assign`) or S7's
    (a moved arrival: the reschedule, told or telling both sides), the releasing cases first. A refusal
    names its case and undoes the whole repair."""
    rows = {str(c.case_id): await cases.get(session=session, case_id=c.case_id) for c in body.changes}
    plan = [domain.Change(str(c.case_id), c.kind, tuple(m["engineer_id"] for m in rows[str(c.case_id)].team),
                          tuple(e.engineer_id for e in c.engineers) if c.kind == "team"
                          else tuple(m["engineer_id"] for m in rows[str(c.case_id)].team),
                          c.planned_start, c.planned_end, c.planned_start, 0, 0) for c in body.changes]
    written = {str(c.case_id): c for c in body.changes}
    applied: list[AppliedChange] = []
    for ch in domain.application_order(plan):
        c = written[ch.case_id]
        try:
            if c.kind == "team":
                await staffing.assign(session=session, case_id=c.case_id, actor=actor, if_match=etag(c.case_version),
                                      command=AssignEngineers(engineers=c.engineers, planned_start=c.planned_start,
                                                              planned_end=c.planned_end))
                applied.append(AppliedChange(case_id=c.case_id, kind="team", status="applied"))
            elif body.inform:
                pending = await delays.request_informed(
                    session=session, case_id=c.case_id, actor=actor, if_match=etag(c.case_version), now=now,
                    settings=settings, body=ArrivalReschedule(new_arrival=c.planned_start, reason=body.reason,
                                                              inform=True))
                applied.append(AppliedChange(case_id=c.case_id, kind="arrival", status="informing",
                                             reschedule_request_id=pending.id))
            else:
                await delays.reschedule(session=session, case_id=c.case_id, actor=actor, if_match=etag(c.case_version),
                                        body=ArrivalReschedule(new_arrival=c.planned_start, reason=body.reason,
                                                               customer_notified_at=c.customer_notified_at,
                                                               regional_centre_notified_at=c.regional_centre_notified_at))
                applied.append(AppliedChange(case_id=c.case_id, kind="arrival", status="applied"))
        except GateRefused as refused:
            refused.extra["case_id"] = str(c.case_id)  # which change of the repair the gate refused
            raise
    return RepairApplied(changes=applied)


async def arrival_windows(*, session: AsyncSession, case_id: UUID, first_day: date | None, days: int,
                          duration_days: int, arrival_hour: int, limit: int) -> ArrivalWindows:
    """S2 window recommendation: arrival windows in the coming days in which a qualified team is free."""
    case = await cases.get(session=session, case_id=case_id)
    if case.status not in RESTAFFABLE:
        raise GateRefused(msg("staff suggestion"), [msg("S3: a case that is {status} is not waiting for staff",
                                                        status=case.status)])
    day = first_day or (utcnow() + timedelta(days=1)).date()
    if day > date.max - timedelta(days=days + duration_days + 1):  # the calendar ends in 9999
        too_far = msg("the first day is too far ahead")
        raise InvalidInput(too_far, errors=[{"field": "query.from", "message": too_far}])
    first = datetime.combine(day, time(arrival_hour), tzinfo=UTC)
    requirement = (await _requirements(session, [case]))[str(case.id)]
    need = CaseNeed(str(case.id), case.region, case.equipment_type, first, first + timedelta(days=duration_days),
                    requirement)
    engineers = await suggestions.profiles(session=session, exclude_cases={case.id})
    found = await asyncio.to_thread(domain.arrival_windows, engineers, need, first=first, days=days, limit=limit)
    by_id = {e.engineer_id: e for e in engineers}
    return ArrivalWindows(case_id=case.id, windows=[
        ArrivalWindow(planned_start=w.start, planned_end=w.end, team=_members(w.team, by_id), cost=w.cost,
                      qualified_free=w.qualified_free) for w in found])
