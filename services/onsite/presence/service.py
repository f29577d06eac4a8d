"""S10 sign-in/out and S20 daily logs: plain async functions, never committing."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.closing.models import Departure
from services.onsite.events import emit
from services.onsite.presence import domain
from services.onsite.presence.models import DailyLog, DailyLogCreate, DailyPresence, Location, MissedSignIn
from services.onsite.reported_times import Earlier, act_time
from services.onsite.site_days import site_calendar
from services.onsite.site_records.models import LeaveRequest
from services.onsite.visits import service as visits
from services.onsite.visits.models import SiteVisit, ThreeCallsRecord, VisitStatus
from shared.api.auth import Principal
from shared.api.problems import GateRefused, InvalidInput
from shared.clock import utcnow
from shared.events.onsite import (
    DailyLogMissed,
    DailyLogSubmitted,
    EngineerCheckedIn,
    EngineerCheckedOut,
    SignInMissed,
    SignOutMissed,
)
from shared.messages import msg
from shared.site_calendar import SiteCalendar, local_day

SYSTEM_ACTOR = "system:onsite"


async def check_in(*, session: AsyncSession, visit_id: UUID, body: Location, principal: Principal) -> DailyPresence:
    """S10: the day's sign-in with location -> EngineerCheckedIn (once per engineer and site day)."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    visits.check_reported(visit, step=msg("S10 sign-in"), field="body.at", at=body.at)
    day = site_calendar().day(body.at, visit.region)
    if (await session.execute(select(col(DailyPresence.id)).where(
            col(DailyPresence.visit_id) == visit.id, col(DailyPresence.engineer_id) == principal.subject,
            col(DailyPresence.day) == day))).first():
        raise GateRefused(msg("sign-in"), [msg("S10: {subject} has already signed in on {day}",
            subject=principal.subject, day=day)])
    presence = DailyPresence(visit_id=visit.id, engineer_id=principal.subject, day=day, checked_in_at=body.at,
                             in_recorded_at=utcnow(), in_latitude=body.latitude, in_longitude=body.longitude,
                             in_accuracy_m=body.accuracy_m)
    session.add(presence)
    emit(session, EngineerCheckedIn(case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject, day=day,
                                    at=body.at, latitude=body.latitude, longitude=body.longitude,
                                    accuracy_m=body.accuracy_m), case_id=visit.case_id, actor=principal.actor)
    await session.flush()
    return presence


async def check_out(*, session: AsyncSession, visit_id: UUID, body: Location, principal: Principal) -> DailyPresence:
    """S10: the day's sign-out with location -> EngineerCheckedOut.

    It closes the sign-in of its site day, or the one of the day before still open (work past midnight).
    """
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    visits.check_reported(visit, step=msg("S10 sign-out"), field="body.at", at=body.at)
    day = site_calendar().day(body.at, visit.region)
    candidates = {p.day: p for p in (await session.execute(select(DailyPresence).where(
        col(DailyPresence.visit_id) == visit.id, col(DailyPresence.engineer_id) == principal.subject,
        col(DailyPresence.day).in_([day, day - timedelta(days=1)])).with_for_update())).scalars()}
    closes = domain.sign_out_day(day, {d: p.checked_out_at is not None for d, p in candidates.items()})
    presence = candidates[closes] if closes is not None else None
    if presence is None:
        raise GateRefused(msg("sign-out"), [msg("S10: {subject} has not signed in on {day}",
            subject=principal.subject, day=day)])
    if presence.checked_out_at is not None:
        raise GateRefused(msg("sign-out"), [msg("S10: {subject} has already signed out on {day}",
            subject=principal.subject, day=day)])
    if body.at < presence.checked_in_at:
        raise InvalidInput(msg("sign-out cannot be before the sign-in"), field="at")
    presence.checked_out_at, presence.out_recorded_at = body.at, utcnow()
    presence.out_latitude, presence.out_longitude, presence.out_accuracy_m = (
        body.latitude, body.longitude, body.accuracy_m)
    emit(session, EngineerCheckedOut(case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject,
                                     day=presence.day,
                                     at=body.at, latitude=body.latitude, longitude=body.longitude,
                                     accuracy_m=body.accuracy_m), case_id=visit.case_id, actor=principal.actor)
    return presence


async def presences(*, session: AsyncSession, visit_id: UUID, limit: int,
                    cursor: str | None) -> tuple[list[DailyPresence], str | None]:
    return await visits.page_on(session, DailyPresence, visit_id, DailyPresence.checked_in_at, limit=limit,
                                cursor=cursor)


async def whereabouts(*, session: AsyncSession) -> list[tuple[DailyPresence, SiteVisit]]:
    """S10: every engineer's latest sign-in or sign-out (one query)."""
    latest = (select(DailyPresence, SiteVisit).join(SiteVisit, col(SiteVisit.id) == col(DailyPresence.visit_id))
              .ext(distinct_on(col(DailyPresence.engineer_id)))
              .order_by(col(DailyPresence.engineer_id), col(DailyPresence.checked_in_at).desc()))
    return [(p, v) for p, v in (await session.execute(latest)).all()]


async def submit_log(*, session: AsyncSession, visit_id: UUID, body: DailyLogCreate,
                     principal: Principal) -> DailyLog:
    """S20: the engineer's daily work log -> DailyLogSubmitted (one per engineer and day), written at the
    act's time (`occurred_at`: not before the engineer's arrival on site)."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    visits.check_reported(visit, step=msg("S20 daily log"), field="body.occurred_at", at=body.occurred_at, after=[
        Earlier(msg("the engineer's arrival"), await visits.arrived_at(session, visit.id, principal.subject))])
    if (await session.execute(select(col(DailyLog.id)).where(
            col(DailyLog.visit_id) == visit.id, col(DailyLog.engineer_id) == principal.subject,
            col(DailyLog.day) == body.day))).first():
        raise GateRefused(msg("daily log"), [msg("S20: the log of {day} is already submitted", day=body.day)])
    log = DailyLog(visit_id=visit.id, engineer_id=principal.subject, day=body.day, work_done=body.work_done,
                   progress=body.progress, problems=body.problems, submitted_at=(received := utcnow()),
                   occurred_at=act_time(body.occurred_at, received))
    session.add(log)
    emit(session, DailyLogSubmitted(case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject,
                                    day=body.day, work_done=body.work_done, progress=body.progress,
                                    problems=body.problems), case_id=visit.case_id, actor=principal.actor)
    await session.flush()
    return log


async def logs(*, session: AsyncSession, visit_id: UUID, limit: int,
               cursor: str | None) -> tuple[list[DailyLog], str | None]:
    return await visits.page_on(session, DailyLog, visit_id, DailyLog.submitted_at, limit=limit, cursor=cursor)


def _site_today(now: datetime, calendar: SiteCalendar) -> ColumnElement[date]:
    """The site day of `now` for each visit's region, as an SQL expression."""
    default = literal(local_day(now, calendar.default_zone))
    whens = [(col(SiteVisit.region) == region, local_day(now, zone)) for region, zone in calendar.zones.items()]
    return case(*whens, else_=default) if whens else default


async def flag_missing(*, session: AsyncSession, now: datetime, calendar: SiteCalendar | None = None) -> int:
    """S10/S20 morning check: the site's past days without a sign-out, without a daily log, or (an engineer
    of an open visit) without any sign-in are flagged, once each.

    "Today" is the site's day of `now` (its region's time zone). `now` is injected so tests control the
    clock. Returns how many flags were raised.
    """
    calendar = calendar or site_calendar()
    has_log = exists().where(and_(col(DailyLog.visit_id) == col(DailyPresence.visit_id),
                                  col(DailyLog.engineer_id) == col(DailyPresence.engineer_id),
                                  col(DailyLog.day) == col(DailyPresence.day)))
    rows = (await session.execute(
        select(DailyPresence, SiteVisit).join(SiteVisit, col(SiteVisit.id) == col(DailyPresence.visit_id))
        .where(col(DailyPresence.day) < _site_today(now, calendar))
        .where(((col(DailyPresence.checked_out_at).is_(None)) & (col(DailyPresence.sign_out_missed).is_(False)))
               | ((col(DailyPresence.log_missed).is_(False)) & ~has_log))
        .with_for_update(of=DailyPresence, skip_locked=True)
    )).all()
    flags = 0
    for presence, visit in rows:
        if presence.checked_out_at is None and not presence.sign_out_missed:
            presence.sign_out_missed = True
            emit(session, SignOutMissed(case_id=visit.case_id, visit_id=visit.id, engineer_id=presence.engineer_id,
                                        day=presence.day), case_id=visit.case_id, actor=SYSTEM_ACTOR)
            flags += 1
        logged = (await session.execute(select(col(DailyLog.id)).where(
            col(DailyLog.visit_id) == visit.id, col(DailyLog.engineer_id) == presence.engineer_id,
            col(DailyLog.day) == presence.day))).first()
        if not presence.log_missed and logged is None:
            presence.log_missed = True
            emit(session, DailyLogMissed(case_id=visit.case_id, visit_id=visit.id, engineer_id=presence.engineer_id,
                                         day=presence.day), case_id=visit.case_id, actor=SYSTEM_ACTOR)
            flags += 1
    return flags + await flag_days_without_sign_in(session=session, now=now, calendar=calendar)


async def flag_days_without_sign_in(*, session: AsyncSession, now: datetime, calendar: SiteCalendar) -> int:
    """S10 (and S20): each engineer of an open visit (arrived, not departed nor let go mid-way) who did not
    sign in on a past working day of the site -> SignInMissed, and DailyLogMissed when no log of that day
    was sent either. Once per engineer and day, whichever replica runs the check (a unique row per day).
    """
    departed = exists().where(col(Departure.visit_id) == col(ThreeCallsRecord.visit_id),
                              col(Departure.engineer_id) == col(ThreeCallsRecord.engineer_id))
    let_go = exists().where(col(LeaveRequest.visit_id) == col(ThreeCallsRecord.visit_id),
                            col(LeaveRequest.engineer_id) == col(ThreeCallsRecord.engineer_id),
                            col(LeaveRequest.may_leave).is_(True))
    on_site = (await session.execute(
        select(col(SiteVisit.id), col(SiteVisit.case_id), col(SiteVisit.region), col(ThreeCallsRecord.engineer_id),
               func.min(col(ThreeCallsRecord.arrived_at)))
        .join(ThreeCallsRecord, col(ThreeCallsRecord.visit_id) == col(SiteVisit.id))
        .where(col(SiteVisit.closed_at).is_(None), col(SiteVisit.status) != VisitStatus.DISPATCHED, ~departed, ~let_go)
        .group_by(col(SiteVisit.id), col(SiteVisit.case_id), col(SiteVisit.region), col(ThreeCallsRecord.engineer_id))
        .order_by(col(SiteVisit.id), col(ThreeCallsRecord.engineer_id))  # one order of inserts: replicas never deadlock
    )).all()
    if not on_site:
        return 0
    visit_ids = {row[0] for row in on_site}

    async def days_of(model: type[DailyPresence] | type[DailyLog] | type[MissedSignIn]
                      ) -> dict[tuple[UUID, str], set[date]]:
        days: dict[tuple[UUID, str], set[date]] = defaultdict(set)
        for v, e, d in (await session.execute(select(col(model.visit_id), col(model.engineer_id), col(model.day))
                                              .where(col(model.visit_id).in_(visit_ids)))).all():
            days[(v, e)].add(d)
        return days

    signed_in, logged, flagged = await days_of(DailyPresence), await days_of(DailyLog), await days_of(MissedSignIn)
    flags = 0
    for visit_id, case_id, region, engineer_id, arrived_at in on_site:
        zone = calendar.zone(region)
        missing = domain.days_without_sign_in(
            first_day=local_day(arrived_at, zone), today=local_day(now, zone),
            signed_in=signed_in.get((visit_id, engineer_id), set()),
            flagged=flagged.get((visit_id, engineer_id), set()),
            weekdays=calendar.working_weekdays)
        for day in missing:
            log_missed = day not in logged.get((visit_id, engineer_id), set())
            inserted = (await session.execute(
                insert(MissedSignIn).values(id=uuid4(), visit_id=visit_id, engineer_id=engineer_id, day=day,
                                            log_missed=log_missed, flagged_at=now)
                .on_conflict_do_nothing(index_elements=["visit_id", "engineer_id", "day"])
                .returning(col(MissedSignIn.id)))).first()
            if inserted is None:  # another run flagged it meanwhile
                continue
            emit(session, SignInMissed(case_id=case_id, visit_id=visit_id, engineer_id=engineer_id, day=day),
                 case_id=case_id, actor=SYSTEM_ACTOR)
            flags += 1
            if log_missed:
                emit(session, DailyLogMissed(case_id=case_id, visit_id=visit_id, engineer_id=engineer_id, day=day),
                     case_id=case_id, actor=SYSTEM_ACTOR)
                flags += 1
    return flags
