"""HTTP: the engineers' roster (CRUD with validation, ETag / If-Match on updates)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from services.dispatch.engineers import service
from services.dispatch.engineers.models import EngineerCreate, EngineerRead, EngineerUpdate
from shared.api.app import Sessions
from shared.api.auth import Dispatcher, Supervisor
from shared.api.concurrency import IfMatch, etag, with_etag
from shared.api.pagination import Page, PageSize, page_of
from shared.api.personal_data import audit_read
from shared.api.problems import problem_responses
from shared.db import transaction

router = APIRouter(prefix="/engineers", tags=["engineers"])

_ERR = problem_responses(404, 409, 412)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EngineerRead, summary="Add an engineer",
             responses=_ERR)
async def create_engineer(body: EngineerCreate, principal: Dispatcher, sessions: Sessions,
                          response: Response) -> EngineerRead:
    async with transaction(sessions) as session:
        engineer = await service.create(session=session, body=body, actor=principal.actor)
    response.headers["ETag"] = etag(engineer.version)
    response.headers["Location"] = f"/engineers/{engineer.id}"
    return EngineerRead.model_validate(engineer)


@router.get("", response_model=Page[EngineerRead], summary="List active engineers (keyset by id)")
async def list_engineers(
    principal: Supervisor, sessions: Sessions, limit: PageSize = 50,
    cursor: Annotated[str | None, Query(max_length=64, description="`next_cursor` of the previous page")] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    equipment_type: Annotated[str | None, Query(max_length=100)] = None,
    min_grade: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> Page[EngineerRead]:
    async with sessions() as session:
        rows = await service.list_engineers(session=session, region=region, equipment_type=equipment_type,
                                            min_grade=min_grade, limit=limit, after=cursor)
    return page_of(EngineerRead, rows, rows[-1].id if len(rows) == limit else None)


@router.get("/{engineer_id}", response_model=EngineerRead, summary="One engineer", responses=_ERR)
async def get_engineer(request: Request, engineer_id: str, principal: Supervisor, sessions: Sessions,
                       response: Response) -> EngineerRead:
    async with sessions() as session:
        engineer = await service.get(session=session, engineer_id=engineer_id)
    await audit_read(sessions, request, principal, "engineer", [engineer.id])  # certificates, calendar
    return with_etag(EngineerRead, engineer, response)


@router.put("/{engineer_id}", response_model=EngineerRead, summary="Replace an engineer's record", responses=_ERR)
async def update_engineer(engineer_id: str, body: EngineerUpdate, principal: Dispatcher, sessions: Sessions,
                          response: Response, if_match: IfMatch = None) -> EngineerRead:
    async with transaction(sessions) as session:
        engineer = await service.update(session=session, engineer_id=engineer_id, body=body,
                                        actor=principal.actor, if_match=if_match)
    return with_etag(EngineerRead, engineer, response)


@router.delete("/{engineer_id}", response_model=EngineerRead, summary="Deactivate an engineer (kept for history)",
               responses=_ERR)
async def deactivate_engineer(engineer_id: str, principal: Dispatcher, sessions: Sessions, response: Response,
                              if_match: IfMatch = None) -> EngineerRead:
    async with transaction(sessions) as session:
        engineer = await service.deactivate(session=session, engineer_id=engineer_id, actor=principal.actor,
                                            if_match=if_match)
    return with_etag(EngineerRead, engineer, response)
