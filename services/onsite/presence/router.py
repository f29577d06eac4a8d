"""HTTP: daily sign-in/out with location (S10), where everyone is now, daily work logs (S20)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request

from services.onsite.presence import service
from services.onsite.presence.models import DailyLogCreate, DailyLogRead, Location, PresenceRead, WhereaboutsRead
from services.onsite.visit_routes import WRITE, Engineer, VisitReader, add_route, page_route
from services.onsite.visits import service as visits
from shared.api.app import Sessions
from shared.api.auth import SUPERVISORS, Principal, Requires
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.personal_data import audit_read
from shared.api.regions import in_region_scope
from shared.db import transaction

router = APIRouter(tags=["presence and daily logs"])

Supervisor = Annotated[Principal, Depends(Requires(*SUPERVISORS))]


add_route(router, "/visits/{visit_id}/check-ins", create=Location, read=PresenceRead, add=service.check_in,
          name="check_in", summary="S10: daily sign-in with location -> EngineerCheckedIn")


@router.post("/visits/{visit_id}/check-outs", response_model=PresenceRead, responses=WRITE,
             summary="S10: daily sign-out with location -> EngineerCheckedOut")
async def check_out(visit_id: UUID, body: Location, principal: Engineer, sessions: Sessions) -> PresenceRead:
    async with transaction(sessions) as session:
        return PresenceRead.model_validate(await service.check_out(session=session, visit_id=visit_id, body=body,
                                                                   principal=principal))


@router.get("/visits/{visit_id}/presence", response_model=Page[PresenceRead],
            summary="S10: sign-ins and sign-outs of the visit (missing sign-outs flagged)")
async def list_presence(request: Request, visit_id: UUID, principal: VisitReader, sessions: Sessions,
                        limit: PageSize = 50, cursor: Cursor = None) -> Page[PresenceRead]:
    async with sessions() as session:
        await visits.get(session=session, visit_id=visit_id, principal=principal)
        rows, next_cursor = await service.presences(session=session, visit_id=visit_id, limit=limit, cursor=cursor)
    # locations of engineers: the reader's own rows are not audited, the others' are (decision 0093)
    await audit_read(sessions, request, principal, "engineer", [p.engineer_id for p in rows])
    return page_of(PresenceRead, rows, next_cursor)


@router.get("/whereabouts", response_model=list[WhereaboutsRead],
            summary="S10: where every engineer is now (last sign-in or sign-out)")
async def whereabouts(request: Request, principal: Supervisor, sessions: Sessions) -> list[WhereaboutsRead]:
    async with sessions() as session:
        rows = await service.whereabouts(session=session)
    out = []
    for p, v in rows:
        if not in_region_scope(principal, v.region):  # a regional centre sees who is in its region now
            continue
        out_known = p.checked_out_at is not None and p.out_latitude is not None and p.out_longitude is not None
        if not out_known and (p.in_latitude is None or p.in_longitude is None):
            continue  # the trace was cleared (retention, erasure): nowhere to show
        out.append(WhereaboutsRead(
            engineer_id=p.engineer_id, visit_id=v.id, site_name=v.site_name, on_site=not out_known,
            at=p.checked_out_at if out_known else p.checked_in_at,
            latitude=p.out_latitude if out_known else p.in_latitude,
            longitude=p.out_longitude if out_known else p.in_longitude,
            accuracy_m=p.out_accuracy_m if out_known else p.in_accuracy_m))
    await audit_read(sessions, request, principal, "engineer", [w.engineer_id for w in out])
    return out


add_route(router, "/visits/{visit_id}/daily-logs", create=DailyLogCreate, read=DailyLogRead, add=service.submit_log,
          name="submit_log", summary="S20: the engineer's daily work log -> DailyLogSubmitted")


page_route(router, "/visits/{visit_id}/daily-logs", read=DailyLogRead, rows=service.logs, name="list_logs",
           summary="S20: daily work logs")
