"""HTTP: an engineer's agenda (visits, tasks pending and duties due per site-local day)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.onsite.agenda import service
from services.onsite.agenda.models import AgendaRead
from services.onsite.site_days import site_calendar
from shared.api.app import Sessions
from shared.api.auth import SUPERVISORS, Principal, Requires, Role
from shared.api.conditional import NOT_MODIFIED, IfNoneMatch, conditional
from shared.api.params import IsoDate
from shared.api.problems import PROBLEM_RESPONSES, NotFound
from shared.api.regions import region_scope
from shared.clock import utcnow
from shared.messages import msg

router = APIRouter(tags=["agenda"])

Reader = Annotated[Principal, Depends(Requires(Role.ENGINEER, Role.DISPATCHER, Role.DEPARTMENT_HEAD,
                                               Role.REGIONAL_CENTRE, Role.ADMIN))]


@router.get("/engineers/{engineer_id}/agenda", response_model=AgendaRead,
            responses={**NOT_MODIFIED, **{k: PROBLEM_RESPONSES[k] for k in (404, 422)}},
            summary="S8-S20: an engineer's visits, tasks pending and duties due per site-local day")
async def get_agenda(
    engineer_id: str, principal: Reader, sessions: Sessions, if_none_match: IfNoneMatch = None,
    period_from: Annotated[IsoDate | None, Query(alias="from", description="First day (site's calendar), "
                                                 "inclusive; default today")] = None,
    period_to: Annotated[IsoDate | None, Query(alias="to", description="Last day, inclusive (at most 62 days); "
                                               "default a week from `from`")] = None,
) -> Response:
    # an engineer reads their own agenda only; another's is answered as if it did not exist
    if not principal.has(Role.ADMIN, *SUPERVISORS) and principal.subject != engineer_id:
        raise NotFound(msg("engineer {engineer_id} has no agenda here", engineer_id=engineer_id))
    calendar = site_calendar()
    first = period_from or calendar.day(utcnow(), "")
    last = period_to or (first + timedelta(days=6) if first < date(9000, 1, 1) else first)
    region = region_scope(principal) if principal.has(Role.ADMIN, *SUPERVISORS) else None  # decision 0074
    async with sessions() as session:
        agenda = await service.agenda(session=session, engineer_id=engineer_id, first=first, last=last,
                                      region=region, calendar=calendar)
    return conditional(agenda, if_none_match)
