"""HTTP: who acts on a visit, and the operations of the records kept on it, registered once per kind of
record instead of written out per kind: an engineer of the team adds one (201, the record); whoever may
read the visit lists them. Each keeps its operation's name (its operation id) and summary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from services.onsite.visits import service as visits
from shared.api.app import Sessions
from shared.api.auth import SUPERVISORS, Principal, Requires, Role
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

VisitReader = Annotated[Principal, Depends(Requires(Role.ENGINEER, *SUPERVISORS))]
"""Whoever may read a visit: the engineers (of its team, checked per visit) and the supervisors."""
Engineer = Annotated[Principal, Depends(Requires(Role.ENGINEER, admin=False))]
"""An engineer acting on a visit of their team."""
WRITE: dict[int | str, dict[str, Any]] = {k: PROBLEM_RESPONSES[k] for k in (404, 409)}


def add_route(router: APIRouter, path: str, *, create: type[BaseModel], read: type[BaseModel],
              add: Callable[..., Awaitable[Any]], name: str, summary: str) -> None:
    """POST `path`: an engineer of the visit's team records one `create` (201, the record as `read`)."""

    async def add_record(visit_id: UUID, body: BaseModel, principal: Engineer, sessions: Sessions) -> Any:
        async with transaction(sessions) as session:
            return read.model_validate(await add(session=session, visit_id=visit_id, body=body, principal=principal))

    add_record.__annotations__["body"] = create  # the request body's schema is read from the signature
    router.add_api_route(path, add_record, methods=["POST"], name=name, response_model=read,
                         status_code=status.HTTP_201_CREATED, responses=WRITE, summary=summary)


def list_route(router: APIRouter, path: str, *, read: type[BaseModel],
               rows: Callable[..., Awaitable[Sequence[Any]]], name: str, summary: str) -> None:
    """GET `path`: every record of one kind on the visit (`rows` of it), for whoever may read the visit."""

    async def list_records(visit_id: UUID, principal: VisitReader, sessions: Sessions) -> Any:
        async with sessions() as session:
            await visits.get(session=session, visit_id=visit_id, principal=principal)
            return [read.model_validate(r) for r in await rows(session=session, visit_id=visit_id)]

    listed: Any = list[read]  # type: ignore[valid-type]  # the list model of this kind, made when it is registered
    router.add_api_route(path, list_records, methods=["GET"], name=name, response_model=listed, summary=summary)


def page_route(router: APIRouter, path: str, *, read: type[BaseModel],
               rows: Callable[..., Awaitable[tuple[Sequence[Any], str | None]]], name: str, summary: str) -> None:
    """GET `path`: a page of the visit's records of one kind (`rows` of it, oldest first), for whoever may read
    the visit."""

    async def list_page(visit_id: UUID, principal: VisitReader, sessions: Sessions, limit: PageSize = 50,
                        cursor: Cursor = None) -> Any:
        async with sessions() as session:
            await visits.get(session=session, visit_id=visit_id, principal=principal)
            found, next_cursor = await rows(session=session, visit_id=visit_id, limit=limit, cursor=cursor)
            return page_of(read, found, next_cursor)

    page: Any = Page[read]  # type: ignore[valid-type]  # the page model of this kind, made when it is registered
    router.add_api_route(path, list_page, methods=["GET"], name=name, response_model=page, summary=summary)
