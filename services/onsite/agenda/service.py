"""An engineer's agenda: the engineer's visits and their records in a few set-based reads, shaped by the
pure rules of `agenda.domain`. Reads only; nothing commits."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.agenda import domain
from services.onsite.agenda.models import AgendaDay, AgendaDuty, AgendaRead, AgendaTask, AgendaVisit
from services.onsite.presence.models import DailyLog, DailyPresence
from services.onsite.site_records.models import CustomerReport
from services.onsite.visits.models import SiteVisit, ThreeCallsRecord
from services.onsite.work.models import SafetyChecklist, SiteTask
from shared.clock import utcnow
from shared.site_calendar import SiteCalendar, period_days


async def agenda(*, session: AsyncSession, engineer_id: str, first: date, last: date, region: str | None,
                 calendar: SiteCalendar, now: datetime | None = None) -> AgendaRead:
    """S8-S20: the engineer's visits touching the period (of `region` only, for a regional centre)."""
    days = period_days(first, last)
    now = now or utcnow()
    # the widest instants the period's site-local days can cover, whatever the zone
    start = datetime.combine(first, time.min, tzinfo=UTC) - timedelta(days=1)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC) + timedelta(days=1)
    stmt = select(SiteVisit).where(
        col(SiteVisit.engineer_ids).contains([engineer_id]),
        or_(col(SiteVisit.completed_at).is_(None), col(SiteVisit.completed_at) >= start),
        or_(col(SiteVisit.planned_start).is_(None), col(SiteVisit.planned_start) < end,
            col(SiteVisit.status) != domain.DISPATCHED))
    if region is not None:
        stmt = stmt.where(col(SiteVisit.region) == region)
    visits = list((await session.execute(stmt)).scalars())
    ids = [v.id for v in visits]
    mine: dict[UUID, datetime] = {}
    team: dict[UUID, datetime] = {}
    tasks: dict[UUID, list[domain.TaskFacts]] = defaultdict(list)
    reports: dict[UUID, list[datetime]] = defaultdict(list)
    signed_in: dict[UUID, set[date]] = defaultdict(set)
    signed_out: dict[UUID, set[date]] = defaultdict(set)
    logged: dict[UUID, set[date]] = defaultdict(set)
    checklists: dict[UUID, set[tuple[UUID, date]]] = defaultdict(set)
    if ids:
        arrivals = (select(col(ThreeCallsRecord.visit_id), col(ThreeCallsRecord.engineer_id),
                           func.min(col(ThreeCallsRecord.arrived_at))).where(col(ThreeCallsRecord.visit_id).in_(ids))
                    .group_by(col(ThreeCallsRecord.visit_id), col(ThreeCallsRecord.engineer_id)))
        for visit_id, who, at in (await session.execute(arrivals)).all():
            team[visit_id] = min(at, team.get(visit_id, at))
            if who == engineer_id:
                mine[visit_id] = at
        for t in (await session.execute(select(SiteTask).where(col(SiteTask.visit_id).in_(ids))
                                        .order_by(col(SiteTask.created_at), col(SiteTask.id)))).scalars():
            tasks[t.visit_id].append(domain.TaskFacts(t.id, t.title, t.status, t.planned_start, t.planned_end,
                                                      t.started_at, t.done_at))
        sent = select(col(CustomerReport.visit_id), col(CustomerReport.sent_at)).where(
            col(CustomerReport.visit_id).in_(ids))
        for visit_id, sent_at in (await session.execute(sent)).all():
            reports[visit_id].append(sent_at)
        presence = select(col(DailyPresence.visit_id), col(DailyPresence.day), col(DailyPresence.checked_out_at)).where(
            col(DailyPresence.visit_id).in_(ids), col(DailyPresence.engineer_id) == engineer_id,
            col(DailyPresence.day) >= first, col(DailyPresence.day) <= last)
        for visit_id, day, out in (await session.execute(presence)).all():
            signed_in[visit_id].add(day)
            if out is not None:
                signed_out[visit_id].add(day)
        logs = select(col(DailyLog.visit_id), col(DailyLog.day)).where(
            col(DailyLog.visit_id).in_(ids), col(DailyLog.engineer_id) == engineer_id, col(DailyLog.day) >= first,
            col(DailyLog.day) <= last)
        for visit_id, day in (await session.execute(logs)).all():
            logged[visit_id].add(day)
        checks = select(col(SafetyChecklist.visit_id), col(SafetyChecklist.task_id), col(SafetyChecklist.day)).where(
            col(SafetyChecklist.visit_id).in_(ids), col(SafetyChecklist.day) >= first, col(SafetyChecklist.day) <= last)
        for visit_id, task_id, day in (await session.execute(checks)).all():
            checklists[visit_id].add((task_id, day))
    facts = [domain.VisitFacts(
        v.id, v.case_id, v.crm_reference, v.site_name, v.region, v.status, calendar.zone(v.region),
        v.planned_start, v.planned_end, mine.get(v.id), team.get(v.id), v.completed_at,
        (v.plan or {}).get("report_period_days"), tuple(reports[v.id]), tuple(tasks[v.id]),
        frozenset(signed_in[v.id]), frozenset(signed_out[v.id]), frozenset(logged[v.id]),
        frozenset(checklists[v.id])) for v in visits]
    today = calendar.day(now, "")
    entries = domain.agenda(facts, days, today, calendar.working_weekdays)
    return AgendaRead(engineer_id=engineer_id, period_from=first, period_to=last,
                      days=[AgendaDay(day=d.day, visits=[_visit(a) for a in d.visits]) for d in entries])


def _visit(a: domain.AgendaVisit) -> AgendaVisit:
    v = a.visit
    return AgendaVisit(
        visit_id=v.visit_id, case_id=v.case_id, crm_reference=v.crm_reference, site_name=v.site_name,
        region=v.region, status=v.status, arrived=a.arrived,
        tasks_pending=[AgendaTask(task_id=t.task_id, title=t.title, status=t.status, planned_start=t.planned_start,
                                  planned_end=t.planned_end) for t in a.tasks_pending],
        duties=[AgendaDuty(kind=d.kind, step=d.step, done=d.done, task_id=d.task_id,
                           detail=d.detail) for d in a.duties])
