"""S10 sign-in/out and S20 daily logs: plain async functions, never committing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.events import emit
from services.onsite.paging import keyset_page
from services.onsite.presence.models import DailyLog, DailyLogCreate, DailyPresence, Location
from services.onsite.visits import service as visits
from services.onsite.visits.models import SiteVisit
from shared.api.auth import Principal
from shared.api.problems import GateRefused, InvalidInput
from shared.events.onsite import (
    DailyLogMissed,
    DailyLogSubmitted,
    EngineerCheckedIn,
    EngineerCheckedOut,
    SignOutMissed,
)


async def check_in(*, session: AsyncSession, visit_id: UUID, body: Location, principal: Principal) -> DailyPresence:
    """S10: the day's sign-in with location -> EngineerCheckedIn (once per engineer and day)."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    day = body.at.astimezone(UTC).date()
    if (await session.execute(select(DailyPresence.id).where(
            DailyPresence.visit_id == visit.id, DailyPresence.engineer_id == principal.subject,
            DailyPresence.day == day))).first():
        raise GateRefused("sign-in", [f"S10: {principal.subject} has already signed in on {day}"])
    presence = DailyPresence(visit_id=visit.id, engineer_id=principal.subject, day=day, checked_in_at=body.at,
                             in_latitude=body.latitude, in_longitude=body.longitude, in_accuracy_m=body.accuracy_m)
    session.add(presence)
    emit(session, EngineerCheckedIn(case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject, day=day,
                                    at=body.at, latitude=body.latitude, longitude=body.longitude,
                                    accuracy_m=body.accuracy_m), case_id=visit.case_id, actor=principal.actor)
    await session.flush()
    return presence


async def check_out(*, session: AsyncSession, visit_id: UUID, body: Location, principal: Principal) -> DailyPresence:
    """S10: the day's sign-out with location -> EngineerCheckedOut."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    day = body.at.astimezone(UTC).date()
    presence = (await session.execute(select(DailyPresence).where(
        DailyPresence.visit_id == visit.id, DailyPresence.engineer_id == principal.subject,
        DailyPresence.day == day).with_for_update())).scalar_one_or_none()
    if presence is None:
        raise GateRefused("sign-out", [f"S10: {principal.subject} has not signed in on {day}"])
    if presence.checked_out_at is not None:
        raise GateRefused("sign-out", [f"S10: {principal.subject} has already signed out on {day}"])
    if body.at < presence.checked_in_at:
        raise InvalidInput("sign-out cannot be before the sign-in", field="at")
    presence.checked_out_at = body.at
    presence.out_latitude, presence.out_longitude, presence.out_accuracy_m = (
        body.latitude, body.longitude, body.accuracy_m)
    emit(session, EngineerCheckedOut(case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject, day=day,
                                     at=body.at, latitude=body.latitude, longitude=body.longitude,
                                     accuracy_m=body.accuracy_m), case_id=visit.case_id, actor=principal.actor)
    return presence


async def presences(*, session: AsyncSession, visit_id: UUID, limit: int,
                    cursor: str | None) -> tuple[list[DailyPresence], str | None]:
    return await keyset_page(session, select(DailyPresence).where(DailyPresence.visit_id == visit_id),
                             model=DailyPresence, at=DailyPresence.checked_in_at, limit=limit, cursor=cursor)


async def whereabouts(*, session: AsyncSession) -> list[tuple[DailyPresence, SiteVisit]]:
    """S10: every engineer's latest sign-in or sign-out (one query)."""
    latest = (select(DailyPresence, SiteVisit).join(SiteVisit, SiteVisit.id == DailyPresence.visit_id)
              .ext(distinct_on(DailyPresence.engineer_id))
              .order_by(DailyPresence.engineer_id, DailyPresence.checked_in_at.desc()))
    return [(p, v) for p, v in (await session.execute(latest)).all()]


async def submit_log(*, session: AsyncSession, visit_id: UUID, body: DailyLogCreate,
                     principal: Principal) -> DailyLog:
    """S20: the engineer's daily work log -> DailyLogSubmitted (one per engineer and day)."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    if (await session.execute(select(DailyLog.id).where(
            DailyLog.visit_id == visit.id, DailyLog.engineer_id == principal.subject,
            DailyLog.day == body.day))).first():
        raise GateRefused("daily log", [f"S20: the log of {body.day} is already submitted"])
    log = DailyLog(visit_id=visit.id, engineer_id=principal.subject, day=body.day, work_done=body.work_done,
                   progress=body.progress, problems=body.problems, submitted_at=datetime.now(UTC))
    session.add(log)
    emit(session, DailyLogSubmitted(case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject,
                                    day=body.day), case_id=visit.case_id, actor=principal.actor)
    await session.flush()
    return log


async def logs(*, session: AsyncSession, visit_id: UUID, limit: int,
               cursor: str | None) -> tuple[list[DailyLog], str | None]:
    return await keyset_page(session, select(DailyLog).where(DailyLog.visit_id == visit_id),
                             model=DailyLog, at=DailyLog.submitted_at, limit=limit, cursor=cursor)


async def flag_missing(*, session: AsyncSession, now: datetime) -> int:
    """S10/S20 morning check: days before today without a sign-out or without a daily log are flagged once.

    `now` is injected so tests control the clock. Returns how many flags were raised.
    """
    today: date = now.astimezone(UTC).date()
    has_log = exists().where(and_(DailyLog.visit_id == DailyPresence.visit_id,
                                  DailyLog.engineer_id == DailyPresence.engineer_id, DailyLog.day == DailyPresence.day))
    rows = (await session.execute(
        select(DailyPresence, SiteVisit).join(SiteVisit, SiteVisit.id == DailyPresence.visit_id)
        .where(DailyPresence.day < today)
        .where(((DailyPresence.checked_out_at.is_(None)) & (DailyPresence.sign_out_missed.is_(False)))
               | ((DailyPresence.log_missed.is_(False)) & ~has_log))
        .with_for_update(of=DailyPresence, skip_locked=True)
    )).all()
    flags = 0
    for presence, visit in rows:
        if presence.checked_out_at is None and not presence.sign_out_missed:
            presence.sign_out_missed = True
            emit(session, SignOutMissed(case_id=visit.case_id, visit_id=visit.id, engineer_id=presence.engineer_id,
                                        day=presence.day), case_id=visit.case_id, actor="system:onsite")
            flags += 1
        logged = (await session.execute(select(DailyLog.id).where(
            DailyLog.visit_id == visit.id, DailyLog.engineer_id == presence.engineer_id,
            DailyLog.day == presence.day))).first()
        if not presence.log_missed and logged is None:
            presence.log_missed = True
            emit(session, DailyLogMissed(case_id=visit.case_id, visit_id=visit.id, engineer_id=presence.engineer_id,
                                         day=presence.day), case_id=visit.case_id, actor="system:onsite")
            flags += 1
    return flags

