"""Pure rules of an engineer's agenda (no I/O): per site-local day, the visits, the tasks pending and the
duties due that day (S10 sign-in and sign-out, S14 safety checklist, S20 daily log, S16 customer report),
each with whether it is done.

The service reads the engineer's visits and their records in a few set-based queries; these functions
decide what is due on which day. Days are the site's calendar days (decision 0072).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from uuid import UUID

from shared.site_calendar import local_day

# The visit statuses (kept here as strings: the domain knows no tables).
DISPATCHED, ON_SITE, COMPLETED = "dispatched", "on_site", "completed"
TASK_DONE = "done"


@dataclass(frozen=True)
class TaskFacts:
    task_id: UUID
    title: str
    status: str
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    started_at: datetime | None = None
    done_at: datetime | None = None


@dataclass(frozen=True)
class VisitFacts:
    """One visit of the engineer's team, with what was recorded on it."""

    visit_id: UUID
    case_id: UUID
    crm_reference: str
    site_name: str
    region: str
    status: str
    zone: tzinfo
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    arrived_at: datetime | None = None  # S8: this engineer's arrival
    first_arrival: datetime | None = None  # S8: the team's first arrival (S16's first report is counted from it)
    completed_at: datetime | None = None
    report_period_days: int | None = None  # S16: from the plan, when onsite knows it
    reports_sent: tuple[datetime, ...] = ()  # S16: reports to the customer
    tasks: tuple[TaskFacts, ...] = ()
    signed_in: frozenset[date] = frozenset()  # S10: this engineer's days with a sign-in
    signed_out: frozenset[date] = frozenset()  # S10: ... with a sign-out
    logged: frozenset[date] = frozenset()  # S20: this engineer's days with a daily log
    checklists: frozenset[tuple[UUID, date]] = frozenset()  # S14: (task, day) with a safety checklist


@dataclass(frozen=True)
class Duty:
    kind: str  # sign_in | safety_checklist | daily_log | customer_report | sign_out
    step: str
    done: bool
    task_id: UUID | None = None
    detail: str = ""


@dataclass(frozen=True)
class AgendaVisit:
    visit: VisitFacts
    arrived: bool  # the engineer had arrived on site by that day
    tasks_pending: tuple[TaskFacts, ...]
    duties: tuple[Duty, ...]


@dataclass(frozen=True)
class AgendaDay:
    day: date
    visits: tuple[AgendaVisit, ...] = field(default_factory=tuple)


def _day(moment: datetime | None, zone: tzinfo) -> date | None:
    return None if moment is None else local_day(moment, zone)


def visit_days(v: VisitFacts, today: date) -> tuple[date, date] | None:
    """The site-local days the visit is on the engineer's agenda: from their arrival (else the planned start)
    to its completion (else the planned end, or today while they are still on site)."""
    first = _day(v.arrived_at, v.zone) or _day(v.planned_start, v.zone)
    if first is None:
        return None
    if v.status == COMPLETED:
        last = _day(v.completed_at, v.zone) or _day(v.planned_end, v.zone) or first
    else:
        last = max(d for d in (_day(v.planned_end, v.zone), first, today if v.status == ON_SITE else None) if d)
    return first, max(first, last)


def in_progress(t: TaskFacts, day: date, zone: tzinfo, today: date) -> bool:
    """S14: a task is in progress on a day it had started by and was not done before; on days to come a
    planned task is expected in progress on the days of its planned window."""
    done = _day(t.done_at, zone)
    if done is not None and done < day:
        return False
    started = _day(t.started_at, zone)
    if started is not None:
        return started <= day
    if day < today or t.planned_start is None:
        return False
    planned_end = _day(t.planned_end, zone) or _day(t.planned_start, zone)
    return (_day(t.planned_start, zone) or day) <= day <= (planned_end or day)


def pending(t: TaskFacts, day: date, zone: tzinfo) -> bool:
    """A task not done by the end of the day, planned (or started) to be worked on by then."""
    done = _day(t.done_at, zone)
    if t.status == TASK_DONE and (done is None or done <= day):
        return False
    begins = _day(t.started_at, zone) or _day(t.planned_start, zone)
    return begins is None or begins <= day


def report_due(v: VisitFacts, day: date) -> bool:
    """S16: a report to the customer is due `report_period_days` after the last one sent before the day (or
    after the team's arrival when none was); it stays due each day until one is sent."""
    if not v.report_period_days or v.first_arrival is None:
        return False
    before = [r for r in v.reports_sent if local_day(r, v.zone) < day]
    anchor = max(before) if before else v.first_arrival
    return local_day(anchor + timedelta(days=v.report_period_days), v.zone) <= day


def duties(v: VisitFacts, day: date, today: date, working_weekdays: Collection[int]) -> tuple[Duty, ...]:
    """The engineer's duties on a visit on one site-local day, each with whether it is done.

    Due on days the engineer is on site (arrived by that day), and on days to come of an open visit:
    - S10 sign-in and sign-out on the site's working days (or on any day they signed in);
    - S14 a safety checklist for each task in progress that day;
    - S20 the daily log on the same days as the sign-in;
    - S16 the periodic report to the customer when due by the plan's period."""
    arrived = v.arrived_at is not None and local_day(v.arrived_at, v.zone) <= day
    if not arrived and not (day >= today and v.status != COMPLETED):
        return ()
    out: list[Duty] = []
    working = day.weekday() in working_weekdays or day in v.signed_in
    if working:
        out.append(Duty("sign_in", "S10", day in v.signed_in))
    for t in v.tasks:
        if in_progress(t, day, v.zone, today):
            out.append(Duty("safety_checklist", "S14", (t.task_id, day) in v.checklists, t.task_id, t.title))
    if working:
        out.append(Duty("daily_log", "S20", day in v.logged))
    if report_due(v, day):
        out.append(Duty("customer_report", "S16", any(local_day(r, v.zone) == day for r in v.reports_sent)))
    if working:
        out.append(Duty("sign_out", "S10", day in v.signed_out))
    return tuple(out)


def agenda(visits: Iterable[VisitFacts], days: Sequence[date], today: date,
           working_weekdays: Collection[int]) -> list[AgendaDay]:
    """S8-S20: the engineer's agenda, one entry per day of the period (days without a visit stay empty)."""
    spans = [(v, span) for v in visits if (span := visit_days(v, today)) is not None]
    out = []
    for day in days:
        shown = []
        for v, (first, last) in sorted(spans, key=lambda s: (s[1][0], str(s[0].visit_id))):
            if not first <= day <= last:
                continue
            arrived = v.arrived_at is not None and local_day(v.arrived_at, v.zone) <= day
            shown.append(AgendaVisit(v, arrived, tuple(t for t in v.tasks if pending(t, day, v.zone)),
                                     duties(v, day, today, working_weekdays)))
        out.append(AgendaDay(day, tuple(shown)))
    return out
