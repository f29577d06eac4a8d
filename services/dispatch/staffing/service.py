"""S3/S12 operations: the staffing policy, assigning a team, staffing requests and added staff."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import func, select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.engineers.models import Engineer
from services.dispatch.events import emit
from services.dispatch.specifications.models import SpecificationPack
from services.dispatch.staffing import domain
from services.dispatch.staffing.models import (
    AddStaff,
    AssignEngineers,
    EngineerAssignment,
    StaffingPolicy,
    StaffingPolicyWrite,
    StaffingRequest,
    TeamChoice,
)
from shared.api.concurrency import check_if_match
from shared.api.pagination import keyset_page, where_given
from shared.api.problems import GateRefused, NotFound
from shared.clock import utcnow
from shared.events.dispatch import EngineersAssigned, StaffAdded, TeamMember
from shared.events.onsite import ScheduleAtRisk
from shared.messages import msg

ACTIVE_CASE = (CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED, CaseStatus.DISPATCHED, CaseStatus.ON_SITE)


async def current_policy(*, session: AsyncSession) -> StaffingPolicy:
    """The newest stored version, or the built-in table as version 0."""
    stmt = select(StaffingPolicy).order_by(col(StaffingPolicy.version).desc()).limit(1)
    found = (await session.execute(stmt)).scalar_one_or_none()
    return found or StaffingPolicy(version=0, rules=domain.default_rules(), required_certificates=[],
                                   note="built-in default", created_by="system", created_at=None)


async def get_policy(*, session: AsyncSession, version: int) -> StaffingPolicy:
    if version == 0:
        return StaffingPolicy(version=0, rules=domain.default_rules(), required_certificates=[],
                              note="built-in default", created_by="system", created_at=None)
    found = await session.get(StaffingPolicy, version)
    if found is None:
        raise NotFound(msg("staffing policy version {version} does not exist", version=version))
    return found


async def revise_policy(*, session: AsyncSession, body: StaffingPolicyWrite, actor: str,
                        if_match: str | None) -> StaffingPolicy:
    """S3: store a new version of the rule table; a stale If-Match is refused (412)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('staffing_policy'))"))
    current = await current_policy(session=session)
    check_if_match(if_match, current.version)
    policy = StaffingPolicy(version=current.version + 1, rules=[r.model_dump(mode="json") for r in body.rules],
                            required_certificates=[c.model_dump() for c in body.required_certificates],
                            note=body.note, created_by=actor, created_at=utcnow())
    session.add(policy)
    return policy


async def requirement(*, session: AsyncSession, case: ServiceCase,
                      version: int | None = None) -> tuple[domain.Requirement, int]:
    """The S3 requirement for the case under the current policy, or under the given version."""
    policy = await (current_policy(session=session) if version is None else get_policy(session=session,
                                                                                       version=version))
    pack = (await session.execute(select(col(SpecificationPack.sheets)).where(
        col(SpecificationPack.case_id) == case.id, col(SpecificationPack.superseded_at).is_(None)))
    ).scalar_one_or_none()
    req = domain.requirement_for(policy.rules, policy.required_certificates, urgency=case.urgency,
                                 difficulty=case.difficulty, customer_importance=case.customer_importance,
                                 equipment_type=case.equipment_type, live_hv=domain.has_live_hv_work(pack or []))
    return req, policy.version


def _certificates(engineer: Engineer) -> dict[str, date]:
    latest: dict[str, date] = {}
    for c in engineer.certificates:
        expiry = date.fromisoformat(c["expires_on"])
        latest[c["type"]] = max(expiry, latest.get(c["type"], expiry))
    return latest


async def candidates(*, session: AsyncSession, choices: list[TeamChoice], start: datetime, end: datetime,
                     exclude_case: UUID) -> tuple[list[domain.Candidate], list[str]]:
    """Load the proposed engineers (locked, so two assignments of one engineer serialise) with their
    calendar and their other assignments that touch the window."""
    ids = sorted({c.engineer_id for c in choices})
    rows = (await session.execute(select(Engineer).where(col(Engineer.id).in_(ids)).order_by(col(Engineer.id))
                                  .with_for_update())).scalars()
    engineers = {e.id: e for e in rows}
    busy: dict[str, list[domain.Busy]] = {i: [] for i in ids}
    stmt = (select(EngineerAssignment, col(ServiceCase.crm_reference))
            .join(ServiceCase, col(ServiceCase.id) == col(EngineerAssignment.case_id))
            .where(col(EngineerAssignment.engineer_id).in_(ids), col(EngineerAssignment.released_at).is_(None),
                   col(EngineerAssignment.case_id) != exclude_case, col(ServiceCase.status).in_(ACTIVE_CASE),
                   col(EngineerAssignment.planned_start) < end, col(EngineerAssignment.planned_end) > start))
    for a, ref in (await session.execute(stmt)).all():
        busy[a.engineer_id].append(domain.Busy(a.planned_start, a.planned_end, f"case {ref}"))
    for e in engineers.values():
        for u in e.unavailability:
            busy[e.id].append(domain.Busy(datetime.fromisoformat(u["start"]), datetime.fromisoformat(u["end"]),
                                          u["reason"]))
    team = [domain.Candidate(e.id, e.name, e.grade, e.active, _certificates(e), tuple(busy[e.id]),
                             c.is_project_manager)
            for c in choices if (e := engineers.get(c.engineer_id)) is not None]
    unknown = [c.engineer_id for c in choices if c.engineer_id not in engineers]
    return team, unknown


def _members(team: list[domain.Candidate]) -> list[TeamMember]:
    return [TeamMember(engineer_id=c.engineer_id, name=c.name, grade=c.grade,
                       is_project_manager=c.is_project_manager or len(team) == 1) for c in team]


async def assign(*, session: AsyncSession, case_id: UUID, command: AssignEngineers, actor: str,
                 if_match: str | None) -> ServiceCase:
    """S3: staff the case under the policy (replacing an earlier team before dispatch)."""
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    if case.status not in (CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED):
        raise GateRefused(msg("assignment"), [msg("S12: a case that is {status} is staffed through staffing requests",
            status=case.status)],
                          current_status=case.status)
    req, policy_version = await requirement(session=session, case=case)
    team, unknown = await candidates(session=session, choices=command.engineers, start=command.planned_start,
                                     end=command.planned_end, exclude_case=case.id)
    domain.check_assignment(team, unknown, req, command.planned_start, command.planned_end)
    now = utcnow()
    for old in (await session.execute(select(EngineerAssignment).where(
            col(EngineerAssignment.case_id) == case.id, col(EngineerAssignment.released_at).is_(None)))).scalars():
        old.released_at = now
    members = _members(team)
    for m in members:
        session.add(EngineerAssignment(case_id=case.id, engineer_id=m.engineer_id,
                                       is_project_manager=m.is_project_manager, planned_start=command.planned_start,
                                       planned_end=command.planned_end, created_by=actor, created_at=now))
    case.team = [m.model_dump() for m in members]
    case.planned_start, case.planned_end = command.planned_start, command.planned_end
    case.staffed_at, case.staffing_policy_version = now, policy_version
    cases.touch(case, actor)
    pm = next((m.engineer_id for m in members if m.is_project_manager), None)
    emit(session, EngineersAssigned(case_id=case.id, team=members, project_manager_id=pm,
                                    planned_start=command.planned_start, planned_end=command.planned_end,
                                    policy_version=policy_version), case_id=case.id, actor=actor)
    return case


async def open_staffing_request(*, session: AsyncSession, risk: ScheduleAtRisk, actor: str) -> None:
    """S12: ScheduleAtRisk opens a staffing request (once per risk, however often it arrives)."""
    known = select(col(StaffingRequest.id)).where(col(StaffingRequest.risk_id) == risk.risk_id)
    if (await session.execute(known)).first():
        return
    if await session.get(ServiceCase, risk.case_id) is None:
        return
    session.add(StaffingRequest(case_id=risk.case_id, risk_id=risk.risk_id,
                                engineers_requested=risk.engineers_requested, reason=risk.reason,
                                customer_deadline=risk.customer_deadline, requested_by=actor, created_at=utcnow()))


async def list_staffing_requests(*, session: AsyncSession, status: str | None, case_id: UUID | None, limit: int,
                                 cursor: str | None) -> tuple[list[StaffingRequest], str | None]:
    """Oldest first, keyset-paginated on (created_at, id)."""
    stmt = where_given(select(StaffingRequest), (col(StaffingRequest.status), status),
                       (col(StaffingRequest.case_id), case_id))
    return await keyset_page(session, stmt, model=StaffingRequest, at=col(StaffingRequest.created_at), limit=limit,
                             cursor=cursor)


async def add_staff(*, session: AsyncSession, request_id: UUID, command: AddStaff, actor: str,
                    if_match: str | None) -> StaffingRequest:
    """S12: the dispatcher adds engineers under the S3 rules -> StaffAdded."""
    request = (await session.execute(select(StaffingRequest).where(col(StaffingRequest.id) == request_id)
                                     .with_for_update())).scalar_one_or_none()
    if request is None:
        raise NotFound(msg("staffing request {request_id} does not exist", request_id=request_id))
    if request.status != "open":
        raise GateRefused(msg("staff addition"), [msg("S12: this staffing request is already fulfilled")])
    case = await cases.get(session=session, case_id=request.case_id, for_update=True)
    check_if_match(if_match, case.version)
    if case.status not in (CaseStatus.DISPATCHED, CaseStatus.ON_SITE):
        raise GateRefused(msg("staff addition"), [msg("S12: staff is added to a dispatched case (this one is {status})",
            status=case.status)])
    start, end = case.planned_start, case.planned_end
    if end is None:  # S3 staffed the case for its planned window before dispatch: there is no window to extend
        raise GateRefused(msg("staff addition"), [msg("S12: the case has no planned window (S3)")])
    if request.customer_deadline and end and request.customer_deadline > end:
        end = request.customer_deadline
    start = max(start, utcnow()) if start else utcnow()
    req, _ = await requirement(session=session, case=case)
    # a lone engineer is the project manager unless the added staff names another one
    keep_pm = len(case.team) > 1 or not any(c.is_project_manager for c in command.engineers)
    existing = [domain.Candidate(m["engineer_id"], m["name"], m["grade"], True, {}, (),
                                 bool(m.get("is_project_manager")) and keep_pm)
                for m in case.team]
    added, unknown = await candidates(session=session, choices=command.engineers, start=start, end=end,
                                      exclude_case=case.id)
    # the existing team's credentials were checked at S3: only the added engineers are checked again
    domain.check_added_staff(existing, added, unknown, req, request.engineers_requested, start, end)
    now = utcnow()
    new_members = [TeamMember(engineer_id=c.engineer_id, name=c.name, grade=c.grade,
                              is_project_manager=c.is_project_manager) for c in added]
    for m in new_members:
        session.add(EngineerAssignment(case_id=case.id, engineer_id=m.engineer_id,
                                       is_project_manager=m.is_project_manager, planned_start=start,
                                       planned_end=end, created_by=actor, created_at=now))
    team = [{**m, "is_project_manager": c.is_project_manager} for m, c in zip(case.team, existing, strict=True)]
    case.team = team + [m.model_dump() for m in new_members]
    case.planned_end = end
    cases.touch(case, actor)
    request.status, request.fulfilled_by, request.fulfilled_at = "fulfilled", actor, now
    emit(session, StaffAdded(case_id=case.id, staffing_request_id=request.id, engineers=new_members),
         case_id=case.id, actor=actor)
    return request


async def assigned_count(*, session: AsyncSession, engineer_id: str) -> int:
    stmt = select(func.count()).select_from(EngineerAssignment).where(
        col(EngineerAssignment.engineer_id) == engineer_id, col(EngineerAssignment.released_at).is_(None))
    return (await session.execute(stmt)).scalar_one()
