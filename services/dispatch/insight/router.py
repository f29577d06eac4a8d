"""HTTP: the standard's KPIs and the conformance report across cases (issue 15, decision 0085), JSON or CSV.

Department heads, quality and dispatchers read every case; regional centres their region; engineers their cases.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.dispatch.cases.service import only_own_cases
from services.dispatch.insight import domain, service
from services.dispatch.insight.models import (
    CaseConformanceSummary,
    ConformanceReportRow,
    GroupBy,
    KpiReport,
)
from shared.api.app import Sessions
from shared.api.auth import CaseWorker, Principal
from shared.api.pagination import Cursor, Page, PageSize
from shared.api.params import IsoDate
from shared.api.problems import PROBLEM_RESPONSES
from shared.api.regions import region_scope
from shared.standard import STEPS

router = APIRouter(tags=["insight"])

PeriodFrom = Annotated[IsoDate | None, Query(description="First day (site's day of the case's creation), inclusive")]
PeriodTo = Annotated[IsoDate | None, Query(description="Last day, inclusive")]
Format = Annotated[Literal["json", "csv"] | None, Query(
    alias="format", description="`csv` for a spreadsheet (or send `Accept: text/csv`)")]
CSV = "text/csv"


def _csv_responses() -> dict:
    return {200: {"content": {CSV: {"schema": {"type": "string"}}}}, 422: PROBLEM_RESPONSES[422]}


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return CSV in request.headers.get("accept", "")


def _csv(rows: list[list[object]], filename: str, headers: dict[str, str] | None = None) -> Response:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return Response(content=out.getvalue(), media_type=f"{CSV}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})})


def _scope(principal: Principal, region: str | None) -> tuple[str | None, bool]:
    """The region to read (a regional centre's own) and whether the request can see anything at all."""
    scope = region_scope(principal)
    if scope is None:
        return region, True
    return scope, region in (None, scope)


@router.get("/kpis", response_model=KpiReport, responses=_csv_responses(),
            summary="The standard's KPIs by region, engineer, equipment type or month, with the counts behind them")
async def get_kpis(request: Request, principal: CaseWorker, sessions: Sessions,
                   period_from: PeriodFrom = None, period_to: PeriodTo = None, group_by: GroupBy = "all",
                   region: Annotated[str | None, Query(max_length=64)] = None,
                   fmt: Format = None) -> Response:
    region, visible = _scope(principal, region)
    totals = []
    if visible:
        async with sessions() as session:
            totals = await service.kpi_totals(session=session, group_by=group_by, period_from=period_from,
                                              period_to=period_to, region=region,
                                              engineer=only_own_cases(principal))
    # plain dicts (the KpiReport shape): by engineer, a region-month has thousands of groups x 16 KPIs
    groups: list[dict[str, Any]] = [{"group": str(t["group"]), "cases": int(t["cases"]), "kpis": domain.kpi_values(t)}
                                    for t in totals]
    if _wants_csv(request, fmt):
        rows: list[list[object]] = [["group", "cases", "kpi", "steps", "unit", "numerator", "denominator", "value"]]
        rows += [[g["group"], g["cases"], k["kpi"], k["steps"], k["unit"], k["numerator"], k["denominator"],
                  "" if k["value"] is None else k["value"]] for g in groups for k in g["kpis"]]
        return _csv(rows, f"kpis-{group_by}.csv")
    return JSONResponse({"group_by": group_by, "period_from": period_from and period_from.isoformat(),
                         "period_to": period_to and period_to.isoformat(), "groups": groups})


async def conformance_for(sessions: Sessions, principal: Principal, region: str | None, period_from: date | None,
                       period_to: date | None, limit: int, cursor: str | None,
                       ) -> tuple[list[CaseConformanceSummary], str | None]:
    """A page of the conformance report's cases for `principal` (the report and the matrix page): none for a
    region a regional centre may not see."""
    region, visible = _scope(principal, region)
    if not visible:
        return [], None
    async with sessions() as session:
        return await service.conformance_page(session=session, region=region, period_from=period_from,
                                              period_to=period_to, engineer=only_own_cases(principal),
                                              limit=limit, cursor=cursor)


def _cell(cell: dict[str, Any]) -> str:
    return str(cell["status"]) if not cell.get("findings") else f"{cell['status']} ({cell['findings']})"


@router.get("/conformance-report", response_model=Page[ConformanceReportRow], responses=_csv_responses(),
            summary="Cases x steps S1-S34: status and findings per cell, newest cases first (keyset-paginated)")
async def get_conformance_report(request: Request, principal: CaseWorker, sessions: Sessions,
                                 region: Annotated[str | None, Query(max_length=64)] = None,
                                 period_from: PeriodFrom = None, period_to: PeriodTo = None,
                                 limit: PageSize = 50, cursor: Cursor = None,
                                 fmt: Format = None) -> Response:
    found, nxt = await conformance_for(sessions, principal, region, period_from, period_to, limit, cursor)
    # plain rows, the cells passed through as stored: 50 rows x 34 cells as models cost more than the query
    rows: list[dict[str, Any]] = [{
        "case_id": str(r.case_id), "region": r.region, "equipment_type": r.equipment_type, "engineers": r.engineers,
        "created_at": r.created_at.isoformat(), "done": r.done, "in_progress": r.in_progress, "missing": r.missing,
        "not_applicable": r.not_applicable, "findings": r.findings, "steps": r.steps,
        "conformance": f"/cases/{r.case_id}/conformance",
    } for r in found]
    if _wants_csv(request, fmt):
        step_ids = [s.id for s in STEPS]
        table: list[list[object]] = [["case_id", "region", "equipment_type", "engineers", "created_at", "done",
                                      "in_progress", "missing", "not_applicable", "findings", *step_ids,
                                      "conformance"]]
        table += [[r["case_id"], r["region"], r["equipment_type"], " ".join(r["engineers"]), r["created_at"],
                   r["done"], r["in_progress"], r["missing"], r["not_applicable"], r["findings"],
                   *(_cell(r["steps"][s]) if s in r["steps"] else "" for s in step_ids), r["conformance"]]
                  for r in rows]
        return _csv(table, "conformance-report.csv", {"X-Next-Cursor": nxt} if nxt else None)
    # the shape is Page[ConformanceReportRow] (the OpenAPI says so); not validated again on the way out
    return JSONResponse({"items": rows, "next_cursor": nxt})

