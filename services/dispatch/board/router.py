"""HTTP: the dispatcher's board (engineers x site-local days over a period and region)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.dispatch.board import service
from services.dispatch.board.models import BoardRead
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.conditional import NOT_MODIFIED, IfNoneMatch, conditional
from shared.api.pagination import PageSize
from shared.api.params import IsoDate
from shared.api.problems import PROBLEM_RESPONSES
from shared.api.regions import region_scope
from shared.site_calendar import MAX_PERIOD_DAYS, SiteCalendar, period_days

router = APIRouter(tags=["board"])

Reader = Annotated[Principal, Depends(Requires(Role.DISPATCHER, Role.DEPARTMENT_HEAD, Role.REGIONAL_CENTRE,
                                               Role.ADMIN))]


@router.get("/board", response_model=BoardRead, responses={**NOT_MODIFIED, 422: PROBLEM_RESPONSES[422]},
            summary="S3: engineers x days with bookings, leave, expiring certificates, conflicts and unstaffed cases")
async def get_board(
    request: Request, principal: Reader, sessions: Sessions,
    period_from: Annotated[IsoDate, Query(alias="from", description="First day (site's calendar), inclusive")],
    period_to: Annotated[IsoDate, Query(alias="to", description=f"Last day, inclusive (at most "
                                                                  f"{MAX_PERIOD_DAYS} days)")],
    region: Annotated[str | None, Query(max_length=64, description="Engineers of this home region and cases "
                                                                   "of this region (default: all)")] = None,
    limit: PageSize = 50,
    cursor: Annotated[str | None, Query(max_length=64, description="`next_cursor` of the previous page")] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    settings = request.app.state.settings
    zones = SiteCalendar.from_settings(settings)
    scope = region_scope(principal)  # a regional centre reads its own region only (decision 0074)
    if scope is not None and region not in (None, scope):
        period_days(period_from, period_to)
        return conditional(BoardRead(period_from=period_from, period_to=period_to, region=region, engineers=[],
                                     unstaffed_cases=[]), if_none_match)
    async with sessions() as session:
        board = await service.board(session=session, first=period_from, last=period_to, region=scope or region,
                                    zones=zones, limit=limit, after=cursor)
    return conditional(board, if_none_match)
