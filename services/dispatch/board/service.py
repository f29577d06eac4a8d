"""The dispatcher's board: a handful of set-based reads (engineers, their bookings, the policy, the packs,
the cases waiting for staff), shaped by the pure rules of `board.domain`. Reads only; nothing commits."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.board import domain
from services.dispatch.board.models import (
    BoardBooking,
    BoardCertificate,
    BoardConflict,
    BoardDay,
    BoardEngineer,
    BoardLeave,
    BoardRead,
    BoardUnstaffedCase,
)
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.engineers.models import Engineer
from services.dispatch.specifications.models import SpecificationPack
from services.dispatch.staffing import domain as staffing_domain
from services.dispatch.staffing import service as staffing
from services.dispatch.staffing.models import EngineerAssignment, StaffingPolicy, StaffingRequest
from shared.site_calendar import SiteCalendar, period_days

MAX_UNSTAFFED = 500


def _engineer_row(e: Engineer) -> domain.EngineerRow:
    return domain.EngineerRow(
        e.id, e.name, e.grade, e.home_region,
        tuple(domain.CertificateRow(c["type"], c["number"], date.fromisoformat(c["expires_on"]))
              for c in e.certificates),
        tuple(domain.LeaveRow(datetime.fromisoformat(u["start"]), datetime.fromisoformat(u["end"]), u["reason"])
              for u in e.unavailability))


def _required_certificates(policy_certs: list[dict], equipment_type: str, sheets: list[dict] | None) -> tuple[str, ...]:
    """S3/S14: the certificates a case's engineers need (the policy's for its equipment type, live work)."""
    certs = {c["certificate_type"] for c in policy_certs if c["equipment_type"] == equipment_type}
    if staffing_domain.has_live_hv_work(sheets or []):
        certs.add(staffing_domain.LIVE_WORK_CERTIFICATE)
    return tuple(sorted(certs))


async def _packs(session: AsyncSession, case_ids: set[UUID]) -> dict[UUID, list[dict]]:
    if not case_ids:
        return {}
    rows = await session.execute(select(col(SpecificationPack.case_id), col(SpecificationPack.sheets)).where(
        col(SpecificationPack.case_id).in_(case_ids), col(SpecificationPack.superseded_at).is_(None)))
    return {case_id: sheets for case_id, sheets in rows.all()}


async def _waiting(session: AsyncSession, *, region: str | None, start: datetime, end: datetime,
                   policy: StaffingPolicy) -> list[domain.WaitingCase]:
    """S3: acknowledged cases of the period (by planned window, else required arrival) with their team size;
    S12: dispatched cases of the period with open staffing requests."""
    team = (select(col(EngineerAssignment.case_id), func.count().label("n"))
            .where(col(EngineerAssignment.released_at).is_(None)).group_by(col(EngineerAssignment.case_id))
            .subquery())
    window_start = func.coalesce(col(ServiceCase.planned_start), col(ServiceCase.required_arrival))
    window_end = func.coalesce(col(ServiceCase.planned_end), col(ServiceCase.required_arrival) + timedelta(days=1))
    stmt = (select(ServiceCase, func.coalesce(team.c.n, 0))
            .outerjoin(team, team.c.case_id == col(ServiceCase.id))
            .where(col(ServiceCase.status) == CaseStatus.ACKNOWLEDGED, window_start < end, window_end > start)
            .order_by(window_start, col(ServiceCase.id)).limit(MAX_UNSTAFFED))
    requested = (select(col(StaffingRequest.case_id), func.sum(col(StaffingRequest.engineers_requested)).label("n"))
                 .where(col(StaffingRequest.status) == "open").group_by(col(StaffingRequest.case_id)).subquery())
    s12 = (select(ServiceCase, func.coalesce(team.c.n, 0), requested.c.n)
           .join(requested, requested.c.case_id == col(ServiceCase.id))
           .outerjoin(team, team.c.case_id == col(ServiceCase.id))
           .where(col(ServiceCase.status).in_((CaseStatus.DISPATCHED, CaseStatus.ON_SITE)),
                  col(ServiceCase.planned_start) < end, col(ServiceCase.planned_end) > start)
           .limit(MAX_UNSTAFFED))
    if region is not None:
        stmt, s12 = stmt.where(col(ServiceCase.region) == region), s12.where(col(ServiceCase.region) == region)
    rows = [(c, n, 0) for c, n in (await session.execute(stmt)).all()]
    rows += [(c, n, int(r)) for c, n, r in (await session.execute(s12)).all()]
    packs = await _packs(session, {c.id for c, _, _ in rows})
    out = []
    for case, assigned, asked in rows:
        req = staffing_domain.requirement_for(
            policy.rules, policy.required_certificates, urgency=case.urgency, difficulty=case.difficulty,
            customer_importance=case.customer_importance, equipment_type=case.equipment_type,
            live_hv=staffing_domain.has_live_hv_work(packs.get(case.id) or []))
        case_start = case.planned_start or case.required_arrival
        case_end = case.planned_end or case.required_arrival + timedelta(days=1)
        # S12: the request's head count is on top of the team dispatched, which met S3's
        out.append(domain.WaitingCase(str(case.id), case.crm_reference, case.region, case.status, case_start,
                                      case_end, req.head_count, assigned, asked))
    return out


async def board(*, session: AsyncSession, first: date, last: date, region: str | None, zones: SiteCalendar,
                limit: int, after: str | None) -> BoardRead:
    """S3: engineers (active, of the region, keyset by id) x site-local days, and the unstaffed cases."""
    days = period_days(first, last)
    # the widest instants the period's site-local days can cover, whatever the zone
    start = datetime.combine(first, time.min, tzinfo=zones.default_zone) - timedelta(days=1)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zones.default_zone) + timedelta(days=1)

    stmt = select(Engineer).where(col(Engineer.active).is_(True))
    if region is not None:
        stmt = stmt.where(col(Engineer.home_region) == region)
    if after:
        stmt = stmt.where(col(Engineer.id) > after)
    engineers = list((await session.execute(stmt.order_by(col(Engineer.id)).limit(limit + 1))).scalars())
    more = len(engineers) > limit
    engineers = engineers[:limit]

    booked = (select(EngineerAssignment, col(ServiceCase.crm_reference), col(ServiceCase.status),
                     col(ServiceCase.region), col(ServiceCase.equipment_type))
              .join(ServiceCase, col(ServiceCase.id) == col(EngineerAssignment.case_id))
              .where(col(EngineerAssignment.engineer_id).in_([e.id for e in engineers]),
                     col(EngineerAssignment.released_at).is_(None),
                     col(EngineerAssignment.planned_start) < end, col(EngineerAssignment.planned_end) > start))
    rows = (await session.execute(booked)).all() if engineers else []
    policy = await staffing.current_policy(session=session)
    packs = await _packs(session, {a.case_id for a, *_ in rows})
    bookings = [domain.BookingRow(a.engineer_id, str(a.case_id), ref, status, case_region, a.planned_start,
                                  a.planned_end, a.is_project_manager,
                                  _required_certificates(policy.required_certificates, equipment,
                                                         packs.get(a.case_id)))
                for a, ref, status, case_region, equipment in rows]
    lines = domain.board([_engineer_row(e) for e in engineers], bookings, days, zones)
    waiting = [] if after else domain.unstaffed(
        await _waiting(session, region=region, start=start, end=end, policy=policy))
    return BoardRead(period_from=first, period_to=last, region=region,
                     engineers=[_line(line) for line in lines],
                     unstaffed_cases=[BoardUnstaffedCase(case_id=UUID(u.case_id), crm_reference=u.crm_reference,
                                                         region=u.region, status=u.status, start=u.start, end=u.end,
                                                         head_count=u.head_count, assigned=u.assigned,
                                                         missing=u.missing, reason=u.reason) for u in waiting],
                     next_cursor=engineers[-1].id if more else None)


def _certificate(c: domain.CertificateRow) -> BoardCertificate:
    return BoardCertificate(type=c.type, number=c.number, valid_until=c.valid_until)


def _line(line: domain.EngineerLine) -> BoardEngineer:
    e = line.engineer
    return BoardEngineer(
        engineer_id=e.engineer_id, name=e.name, grade=e.grade, home_region=e.home_region,
        expiring_certificates=[_certificate(c) for c in line.expiring_certificates],
        days=[BoardDay(
            day=cell.day,
            bookings=[BoardBooking(case_id=UUID(b.case_id), crm_reference=b.crm_reference, case_status=b.case_status,
                                   region=b.region, planned_start=b.planned_start, planned_end=b.planned_end,
                                   is_project_manager=b.is_project_manager) for b in cell.bookings],
            leave=[BoardLeave(start=u.start, end=u.end, reason=u.reason) for u in cell.leave],
            certificates_expiring=[_certificate(c) for c in cell.certificates_expiring],
            conflicts=[BoardConflict(kind=c.kind, case_ids=[UUID(i) for i in c.case_ids],
                                     detail=c.detail) for c in cell.conflicts])
            for cell in line.days])
