"""HTML: the supervisors' read-only page (issue 15): the case board, the conformance matrix as a coloured grid,
KPI charts (SVG drawn on the server), in English and Chinese. No JavaScript, no asset from elsewhere.

Authenticated with the API's tokens: the `Authorization` header, or the same token in the `access_token`
cookie a browser sends (set by the site's sign-in, or by hand in development). Scoped like the API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.dispatch.cases import service as cases
from services.dispatch.insight import charts, domain, service
from services.dispatch.insight.i18n import Lang, labels
from services.dispatch.insight.models import GroupBy
from services.dispatch.insight.router import conformance_for
from services.dispatch.record import domain as record
from shared.api.app import Sessions
from shared.api.auth import CASE_WORKERS, Principal, Requires
from shared.api.pagination import Cursor
from shared.api.params import IsoDate
from shared.api.problems import PROBLEM_RESPONSES
from shared.api.regions import region_scope
from shared.clock import utcnow
from shared.standard import STEPS

COOKIE = "access_token"
_bearer = HTTPBearer(auto_error=False, description="OAuth2 bearer JWT (or the same token in the access_token cookie)")
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
STATUSES = ["received", "acknowledged", "dispatched", "on_site", "completed", "closed"]
CELL_STATUSES = ["done", "in_progress", "missing", "not_applicable"]
TREND_KPIS = ["on_time_arrival", "three_call_compliance", "daily_log_compliance", "first_visit_completion",
              "conformance_rate"]
BAR_KPIS = ["on_time_arrival", "three_call_compliance", "sign_out_compliance", "first_visit_completion",
            "csat", "conformance_rate"]
ENGINEER_KPIS = ["on_time_arrival", "three_call_compliance", "daily_log_compliance"]
TOP_ENGINEERS = 15


class PageRequires(Requires):
    """`Requires` that also reads the token from the `access_token` cookie (a browser sends no header)."""

    async def __call__(
        self, request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        if credentials is None and request.cookies.get(COOKIE):
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=request.cookies[COOKIE])
        return await super().__call__(request, credentials)


Viewer = Annotated[Principal, Depends(PageRequires(*CASE_WORKERS))]
LangQuery = Annotated[Lang, Query(description="en or zh")]
Region = Annotated[str | None, Query(max_length=64)]
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "An HTML page"}}

router = APIRouter(prefix="/insight", tags=["insight page"])


def _render(template: str, request: Request, lang: Lang, page: str, **context: Any) -> HTMLResponse:
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    other = urlencode({**params, "lang": "zh" if lang == "en" else "en"})
    t = labels(lang)
    html = TEMPLATES.get_template(template).render(t=t, lang=lang, page=page, heading=t[page], other_lang=other,
                                                   **context)
    return HTMLResponse(html)


def _scope(principal: Principal, region: str | None) -> tuple[str | None, bool]:
    scope = region_scope(principal)
    if scope is None:
        return region or None, True
    return scope, region in (None, "", scope)


def next_open_step(cells: dict[str, Any] | None) -> tuple[str, str, str] | None:
    """The first step of S1-S34 (in order) not done and not applicable: (id, title, status)."""
    for step in STEPS:
        cell = (cells or {}).get(step.id)
        status = cell["status"] if cell else "missing"
        if status in ("missing", "in_progress"):
            return step.id, step.title, status
    return None


@router.get("/board", response_class=HTMLResponse, responses=HTML,
            summary="Page: cases by status and region, the open cases with their next step due and its age")
async def board_page(request: Request, principal: Viewer, sessions: Sessions, lang: LangQuery = "en",
                     region: Region = None) -> HTMLResponse:
    region, visible = _scope(principal, region)
    counts: list[dict[str, Any]] = []
    open_cases: list[dict[str, Any]] = []
    if visible:
        async with sessions() as session:
            counts, open_cases = await service.board(session=session, region=region,
                                                     engineer=cases.only_own_cases(principal))
    by_region: dict[str, dict[str, int]] = {}
    for c in counts:
        by_region.setdefault(c["region"], {})[c["status"]] = c["cases"]
    now = utcnow()
    for c in open_cases:
        step = next_open_step(c["steps"])
        c["next_step"], c["next_title"], c["next_status"] = step or (None, None, None)
        since: datetime = c["last_event_at"] or c["created_at"] or now
        c["age_days"] = max(0, (now - since.astimezone(UTC)).days)
    return _render("board.html", request, lang, "board", statuses=STATUSES, by_region=by_region,
                   open_cases=open_cases)


@router.get("/matrix", response_class=HTMLResponse, responses=HTML,
            summary="Page: the conformance matrix, cases x steps as a coloured grid, each case linked to its view")
async def matrix_page(request: Request, principal: Viewer, sessions: Sessions, lang: LangQuery = "en",
                      region: Region = None, period_from: Annotated[IsoDate | None, Query()] = None,
                      period_to: Annotated[IsoDate | None, Query()] = None, cursor: Cursor = None) -> HTMLResponse:
    filters = {"region": region, "period_from": period_from, "period_to": period_to}
    # the form sends an empty region for all regions
    found, nxt = await conformance_for(sessions, principal, region or None, period_from, period_to, 50, cursor)
    rows = [{"case_id": r.case_id, "region": r.region, "steps": r.steps,
             "conformance": f"/insight/cases/{r.case_id}?lang={lang}"} for r in found]
    next_page = None
    if nxt is not None:
        params = {k: v for k, v in request.query_params.items() if k != "cursor"}
        next_page = urlencode({**params, "cursor": nxt})
    return _render("matrix.html", request, lang, "matrix", filters=filters, steps=STEPS, rows=rows,
                   cell_statuses=CELL_STATUSES, next_page=next_page)


@router.get("/charts", response_class=HTMLResponse, responses=HTML,
            summary="Page: KPI charts, trend by month and comparison by region and by engineer")
async def charts_page(request: Request, principal: Viewer, sessions: Sessions, lang: LangQuery = "en",
                      region: Region = None, period_from: Annotated[IsoDate | None, Query()] = None,
                      period_to: Annotated[IsoDate | None, Query()] = None) -> HTMLResponse:
    filters = {"region": region, "period_from": period_from, "period_to": period_to}
    region, visible = _scope(principal, region)
    groups: dict[GroupBy, list[dict[str, Any]]] = {"month": [], "region": [], "engineer": []}
    if visible:
        async with sessions() as session:
            for group_by in groups:
                groups[group_by] = await service.kpi_totals(
                    session=session, group_by=group_by, period_from=period_from, period_to=period_to,
                    region=region, engineer=cases.only_own_cases(principal))
    t = labels(lang)

    def values(rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, dict[str, Any]]]]:
        return [(str(r["group"]), {k["kpi"]: k for k in domain.kpi_values(r)}) for r in rows]

    months = values(groups["month"])
    trend = charts.line_chart(t["trend"], [m for m, _ in months],
                              [(t[k], [v[k]["value"] for _, v in months]) for k in TREND_KPIS])
    regions = values(groups["region"])
    by_region = [charts.bar_chart(t[k], [(g, v[k]["value"], v[k]["denominator"]) for g, v in regions],
                                  unit=next(x.unit for x in domain.KPIS if x.name == k)) for k in BAR_KPIS]
    engineers = sorted(values(groups["engineer"]), key=lambda gv: -gv[1]["three_call_compliance"]["denominator"])
    engineers = engineers[:TOP_ENGINEERS]
    by_engineer = [charts.bar_chart(t[k], [(g, v[k]["value"], v[k]["denominator"]) for g, v in engineers])
                   for k in ENGINEER_KPIS]
    return _render("charts.html", request, lang, "charts", filters=filters, trend=trend, by_region=by_region,
                   by_engineer=by_engineer)


@router.get("/cases/{case_id}", response_class=HTMLResponse, responses={**HTML, 404: PROBLEM_RESPONSES[404]},
            summary="Page: one case's conformance (S1-S34): the events that prove each step and the findings")
async def case_page(case_id: UUID, request: Request, principal: Viewer, sessions: Sessions,
                    lang: LangQuery = "en") -> HTMLResponse:
    async with sessions() as session:
        events = await cases.timeline(session=session, case_id=case_id, principal=principal)
    today = utcnow().astimezone(record.SITE_TIMEZONE).date()
    steps = record.conformance([record.TimelineEvent(e.event_id, e.event_type, e.actor, e.occurred_at, e.data)
                                for e in events], today=today)
    return _render("case.html", request, lang, "conformance", case_id=case_id, steps=steps,
                   summary=record.summary(steps))
