"""HTTP: S6 preparation checklist."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from services.dispatch.cases import service as cases
from services.dispatch.preparation import domain, service
from services.dispatch.preparation.models import PreparationRead, TickItem
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.concurrency import IfMatch, etag
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(tags=["preparation (S6)"])

Preparer = Annotated[Principal, Depends(Requires(Role.DISPATCHER, Role.ENGINEER))]
Reader = Annotated[Principal, Depends(Requires(Role.DISPATCHER, Role.DEPARTMENT_HEAD, Role.REGIONAL_CENTRE,
                                               Role.ENGINEER))]


@router.get("/cases/{case_id}/preparation", response_model=PreparationRead, summary="S6: the preparation checklist",
            responses={404: PROBLEM_RESPONSES[404]})
async def get_preparation(case_id: UUID, principal: Reader, sessions: Sessions, response: Response) -> PreparationRead:
    async with sessions() as session:
        case = await cases.get(session=session, case_id=case_id)
        if principal.has(Role.ENGINEER) and not principal.has(Role.DISPATCHER, Role.ADMIN):
            domain.check_may_tick(is_dispatcher=False, subject=principal.subject,
                                  team=[m["engineer_id"] for m in case.team])
        found = await service.checklist(session=session, case_id=case_id)
        result = service.read(case_id, found, await service.items_of(session=session, case_id=case_id, found=found))
    response.headers["ETag"] = etag(result.version)
    return result


@router.put("/cases/{case_id}/preparation/items/{key}", response_model=PreparationRead,
            responses={k: PROBLEM_RESPONSES[k] for k in (404, 412, 422)},
            summary="S6: tick or untick an item (the last tick -> PreparationCompleted); the dispatcher or an "
                    "engineer of the case's team")
async def tick_item(case_id: UUID, key: Annotated[str, Path(max_length=64)], body: TickItem,
                    principal: Preparer, sessions: Sessions, response: Response,
                    if_match: IfMatch = None) -> PreparationRead:
    async with transaction(sessions) as session:
        found = await service.tick(session=session, case_id=case_id, key=key, body=body, principal=principal,
                                   if_match=if_match)
        result = service.read(case_id, found, found.items)
    response.headers["ETag"] = etag(result.version)
    return result
