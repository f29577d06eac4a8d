"""The insight read model: refreshed from a case's timeline when one of its events lands (in the
consumer's transaction), read by the KPI and conformance-report endpoints. Never commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from uuid import UUID

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import ColumnElement, FromClause, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases.models import CaseEvent, ServiceCase
from services.dispatch.insight import domain
from services.dispatch.insight.models import CaseConformanceSummary, CaseKpiFacts, EngineerKpiFacts, GroupBy
from services.dispatch.record.domain import SITE_TIMEZONE, TimelineEvent, summary
from shared.api.app import ServiceRuntime
from shared.api.pagination import keyset_page
from shared.clock import utcnow
from shared.db import table_of

# the read model's lag: from the event's time to its case's rows being rewritten (decision 0085)
READ_MODEL_LAG = Histogram("insight_read_model_lag_seconds",
                           "Seconds from a case event's time to the insight read model including it",
                           ["service"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))

REFRESH_FAILURES = Counter("insight_refresh_failures_total",
                           "Case events whose KPI rows could not be recomputed (logged with the case id)", ["service"])
# the KPIs of the site's current month by region (and region "all"), for the Grafana KPI dashboard
KPI_VALUE = Gauge("kpi_value", "A KPI of docs/kpis.md for the site's current month (shares 0-1, NPS -100..100)",
                  ["service", "kpi", "region"])
KPI_DENOMINATOR = Gauge("kpi_denominator", "The count behind kpi_value (arrivals, engineer-days, cases, calls...)",
                        ["service", "kpi", "region"])
log = logging.getLogger(__name__)

_facts = table_of(CaseKpiFacts)
_engineers = table_of(EngineerKpiFacts)
_summary = table_of(CaseConformanceSummary)


def _upsert(table: Any, rows: list[dict[str, Any]], key: str = "case_id") -> tuple[Any, list[dict[str, Any]]]:
    """The upsert of `rows` (all with the same columns) and its parameters: `session.execute(*_upsert(...))`."""
    return _upsert_statement(table, tuple(rows[0]), key), rows


@cache
def _upsert_statement(table: Any, columns: tuple[str, ...], key: str) -> Any:
    # built once per table and column set, with bind parameters (decision 0098): a statement built with
    # the values in it was rebuilt, re-keyed and its `excluded` columns re-proxied for every event
    stmt = pg_insert(table)
    return stmt.on_conflict_do_update(index_elements=[table.c[key]],
                                      set_={k: stmt.excluded[k] for k in columns if k != key})


async def refresh(*, session: AsyncSession, events: Sequence[tuple[str, datetime]], now: datetime) -> None:
    """Recompute the KPI counts, engineer counts and conformance summary of the cases of a batch of events
    (subject, event time), each case once and from its whole timeline (the batch's events included: the
    session flushes them first), with one statement per table for the batch. Subjects that are not a case
    are skipped."""
    times: dict[UUID, list[datetime]] = {}
    subjects: dict[UUID, str] = {}  # the timeline is the subject's, as the events name it
    for subject, event_time in events:
        try:
            case_id = UUID(subject)
        except ValueError:
            continue
        times.setdefault(case_id, []).append(event_time)
        subjects[case_id] = subject
    if not times:
        return
    cases = {r.id: r for r in await session.execute(
        select(col(ServiceCase.id), col(ServiceCase.region), col(ServiceCase.equipment_type),
               col(ServiceCase.created_at), col(ServiceCase.team))
        .where(col(ServiceCase.id).in_(list(times))))}
    if not cases:
        return
    timelines: dict[str, list[TimelineEvent]] = {subjects[case_id]: [] for case_id in cases}
    for e in await session.execute(
            select(col(CaseEvent.case_id), col(CaseEvent.event_id), col(CaseEvent.event_type), col(CaseEvent.actor),
                   col(CaseEvent.occurred_at), col(CaseEvent.data))
            .where(col(CaseEvent.case_id).in_(list(timelines)))
            .order_by(col(CaseEvent.case_id), col(CaseEvent.occurred_at), col(CaseEvent.event_id))):
        timelines[e.case_id].append(TimelineEvent(e.event_id, e.event_type, e.actor, e.occurred_at, e.data))
    today = now.astimezone(SITE_TIMEZONE).date()
    facts_rows: list[dict[str, Any]] = []
    engineer_rows: list[dict[str, Any]] = []
    summary_rows: list[dict[str, Any]] = []
    for case_id, case in cases.items():
        timeline = timelines[subjects[case_id]]
        try:
            facts = domain.case_facts(timeline, today=today, team=[str(m.get("engineer_id")) for m in case.team or []])
        except Exception:  # a rule that cannot read this case's data must not hold up the timeline
            log.exception("insight: the KPIs of case %s could not be computed; its rows stay as they were", case_id)
            REFRESH_FAILURES.labels("dispatch").inc()
            continue
        day = case.created_at.astimezone(SITE_TIMEZONE).date()
        where = {"case_id": case_id, "region": case.region, "equipment_type": case.equipment_type,
                 "engineers": sorted(facts.engineers), "created_at": case.created_at, "period_day": day}
        last = max((e.occurred_at for e in timeline), default=max(times[case_id]))
        facts_rows.append({**where, "month": day.strftime("%Y-%m"),
                           **{name: getattr(facts, name) for name in domain.CASE_COUNTS},
                           "last_event_at": last, "updated_at": now})
        engineer_rows += [{"case_id": case_id, "engineer_id": eng, "period_day": day,
                           **{name: getattr(e, name) for name in domain.ENGINEER_COUNTS}}
                          for eng, e in facts.engineers.items()]
        status = summary(facts.steps)
        summary_rows.append({**where, "done": status["done"], "in_progress": status["in_progress"],
                             "missing": status["missing"], "not_applicable": status["not_applicable"],
                             "findings": status["findings"], "steps": domain.step_cells(facts.steps),
                             "updated_at": now})
        for event_time in times[case_id]:
            READ_MODEL_LAG.labels("dispatch").observe(max(0.0, (now - event_time).total_seconds()))
    if not facts_rows:
        return
    await session.execute(*_upsert(_facts, facts_rows))
    await session.execute(delete(_engineers).where(_engineers.c.case_id.in_([r["case_id"] for r in facts_rows])))
    if engineer_rows:
        await session.execute(pg_insert(_engineers), engineer_rows)
    await session.execute(*_upsert(_summary, summary_rows))


# ---------------------------------------------------------------- reading

def _period(column: Any, period_from: date | None, period_to: date | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if period_from is not None:
        conds.append(column >= period_from)
    if period_to is not None:
        conds.append(column <= period_to)
    return conds


def _midnight(day: date) -> datetime:
    """The start of a site's day (the period's days are the site's, like `period_day`)."""
    return datetime.combine(day, time.min, tzinfo=SITE_TIMEZONE)


def _own(engineer: str | None) -> list[ColumnElement[bool]]:
    """An engineer reads only the cases they are on."""
    if engineer is None:
        return []
    return [_facts.c.case_id.in_(select(_engineers.c.case_id).where(_engineers.c.engineer_id == engineer))]


async def kpi_totals(*, session: AsyncSession, group_by: GroupBy, period_from: date | None,
                     period_to: date | None, region: str | None, engineer: str | None) -> list[dict[str, Any]]:
    """The summed counts per group, with the number of cases: one aggregate over the read model."""
    conds = [*_period(_facts.c.period_day, period_from, period_to), *_own(engineer)]
    if region is not None:
        conds.append(_facts.c.region == region)
    if group_by == "engineer":
        # engineer counts from the engineer's own rows; case counts for every engineer of the case
        source: FromClause = _engineers.join(_facts, _facts.c.case_id == _engineers.c.case_id)
        key: Any = _engineers.c.engineer_id
        cols = [func.sum(_engineers.c[n]).label(n) for n in domain.ENGINEER_COUNTS]
        cols += [func.sum(_facts.c[n]).label(n) for n in domain.CASE_COUNTS if n not in domain.ENGINEER_COUNTS]
        if engineer is not None:
            conds.append(_engineers.c.engineer_id == engineer)
    else:
        source = _facts
        key = {"all": literal("all"), "region": _facts.c.region, "equipment_type": _facts.c.equipment_type,
               "month": _facts.c.month}[group_by]
        cols = [func.sum(_facts.c[n]).label(n) for n in domain.CASE_COUNTS]
    stmt = (select(key.label("group"), func.count().label("cases"), *cols).select_from(source)
            .where(*conds).group_by(key).order_by(key))
    return [dict(r._mapping) for r in await session.execute(stmt)]


async def conformance_page(*, session: AsyncSession, region: str | None, period_from: date | None,
                           period_to: date | None, engineer: str | None, limit: int,
                           cursor: str | None) -> tuple[list[CaseConformanceSummary], str | None]:
    """Cases x steps, newest first, keyset-paginated on (created_at, case_id) like the case list. The period's
    days become a range of `created_at` (the site's midnights), so the (region, created_at, case_id) index
    both filters and orders."""
    conds: list[ColumnElement[bool]] = []
    if period_from is not None:
        conds.append(_summary.c.created_at >= _midnight(period_from))
    if period_to is not None:
        conds.append(_summary.c.created_at < _midnight(period_to + timedelta(days=1)))
    if region is not None:
        conds.append(_summary.c.region == region)
    if engineer is not None:
        conds.append(_summary.c.case_id.in_(select(_engineers.c.case_id).where(_engineers.c.engineer_id == engineer)))
    return await keyset_page(session, select(CaseConformanceSummary).where(*conds), model=CaseConformanceSummary,
                             at=col(CaseConformanceSummary.created_at), limit=limit, cursor=cursor,
                             newest_first=True)


async def collect_kpis(runtime: ServiceRuntime) -> None:
    """/metrics: the current month's KPIs (the site's month to date) by region and overall, from the read model
    (two aggregates over an index range of this month's rows)."""
    today = utcnow().astimezone(SITE_TIMEZONE).date()
    first = today.replace(day=1)
    async with runtime.sessions() as session:
        totals = [*await kpi_totals(session=session, group_by="region", period_from=first, period_to=today,
                                    region=None, engineer=None),
                  *await kpi_totals(session=session, group_by="all", period_from=first, period_to=today,
                                    region=None, engineer=None)]
    KPI_VALUE.clear()
    KPI_DENOMINATOR.clear()
    for group in totals:
        for kpi in domain.kpi_values(group):
            KPI_DENOMINATOR.labels("dispatch", kpi["kpi"], str(group["group"])).set(kpi["denominator"])
            if kpi["value"] is not None:
                KPI_VALUE.labels("dispatch", kpi["kpi"], str(group["group"])).set(kpi["value"])


# ---------------------------------------------------------------- the supervisors' page

async def board(*, session: AsyncSession, region: str | None, engineer: str | None, limit: int = 50
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The case board: cases by region and status, and the newest open cases with their conformance cells
    and the time of their last event (the next step due is chosen by the page from the cells)."""
    cases = table_of(ServiceCase)
    conds: list[ColumnElement[bool]] = []
    if region is not None:
        conds.append(cases.c.region == region)
    if engineer is not None:
        conds.append(cases.c.id.in_(select(_engineers.c.case_id).where(_engineers.c.engineer_id == engineer)))
    counts = [dict(r._mapping) for r in await session.execute(
        select(cases.c.region, cases.c.status, func.count().label("cases")).where(*conds)
        .group_by(cases.c.region, cases.c.status).order_by(cases.c.region))]
    open_rows = await session.execute(
        select(cases.c.id, cases.c.crm_reference, cases.c.region, cases.c.status, cases.c.created_at,
               _summary.c.steps, _facts.c.last_event_at)
        .join(_summary, _summary.c.case_id == cases.c.id, isouter=True)
        .join(_facts, _facts.c.case_id == cases.c.id, isouter=True)
        .where(*conds, cases.c.status != "closed")
        .order_by(cases.c.created_at.desc(), cases.c.id.desc()).limit(limit))
    return counts, [dict(r._mapping) for r in open_rows]
