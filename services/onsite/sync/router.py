"""HTTP: the changes feed of a visit and of an engineer, for clients syncing after being offline."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.onsite.sync import service
from services.onsite.sync.models import ChangesPage
from services.onsite.visits import service as visits
from shared.api.app import Sessions
from shared.api.auth import SUPERVISORS, Principal, Requires, Role
from shared.api.conditional import NOT_MODIFIED, IfNoneMatch, conditional
from shared.api.pagination import PageSize
from shared.api.problems import PROBLEM_RESPONSES, NotFound
from shared.api.regions import region_scope
from shared.messages import msg

router = APIRouter(tags=["sync"])

Reader = Annotated[Principal, Depends(Requires(Role.ENGINEER, Role.DISPATCHER, Role.REGIONAL_CENTRE,
                                               Role.DEPARTMENT_HEAD))]
Since = Annotated[str | None, Query(max_length=200, description="`cursor` (or `next_cursor`) of the previous "
                                                                "answer; none: from the beginning")]


@router.get("/visits/{visit_id}/changes", response_model=ChangesPage,
            responses={**NOT_MODIFIED, **{k: PROBLEM_RESPONSES[k] for k in (404, 422)}},
            summary="Offline sync: the visit's changes after a cursor, in commit order")
async def list_visit_changes(visit_id: UUID, principal: Reader, sessions: Sessions, if_none_match: IfNoneMatch = None,
                             since: Since = None, limit: PageSize = 100) -> Response:
    async with sessions() as session:
        visit = await visits.get(session=session, visit_id=visit_id, principal=principal)
        page = await service.changes(session=session, visit_ids=[visit.id], since=since, limit=limit)
    return conditional(page, if_none_match)


@router.get("/engineers/{engineer_id}/changes", response_model=ChangesPage,
            responses={**NOT_MODIFIED, **{k: PROBLEM_RESPONSES[k] for k in (404, 422)}},
            summary="Offline sync: the changes of the engineer's visits after a cursor, in commit order")
async def list_engineer_changes(engineer_id: str, principal: Reader, sessions: Sessions,
                                if_none_match: IfNoneMatch = None, since: Since = None,
                                limit: PageSize = 100) -> Response:
    # an engineer syncs their own visits; another engineer's feed is answered as if it did not exist
    if not principal.has(Role.ADMIN, *SUPERVISORS) and principal.subject != engineer_id:
        raise NotFound(msg("engineer {engineer_id} has no changes feed here", engineer_id=engineer_id))
    region = region_scope(principal) if principal.has(Role.ADMIN, *SUPERVISORS) else None  # decision 0074
    async with sessions() as session:
        visit_ids = await service.visit_ids_of(session, engineer_id, region)
        page = await service.changes(session=session, visit_ids=visit_ids, since=since, limit=limit)
    return conditional(page, if_none_match)
