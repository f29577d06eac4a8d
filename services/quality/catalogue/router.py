"""HTTP: the failure-mode catalogue (S25)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status

from services.quality.catalogue import service
from services.quality.catalogue.models import FailureModeCreate, FailureModeRead, FailureModeUpdate
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.concurrency import with_etag
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(prefix="/failure-modes", tags=["failure-mode catalogue"])

Maintainer = Annotated[Principal, Depends(Requires(Role.QUALITY_ENGINEER))]
Reader = Annotated[Principal, Depends(Requires(
    Role.ENGINEER, Role.QUALITY_ENGINEER, Role.DISPATCHER, Role.DEPARTMENT_HEAD))]


@router.get("", response_model=list[FailureModeRead], summary="The failure-mode catalogue")
async def list_failure_modes(principal: Reader, sessions: Sessions,
                             include_retired: bool = False) -> list[FailureModeRead]:
    async with sessions() as session:
        modes = await service.list_all(session=session, include_retired=include_retired)
    return [FailureModeRead.model_validate(m) for m in modes]


@router.post("", response_model=FailureModeRead, status_code=status.HTTP_201_CREATED,
             summary="Add a failure mode to the catalogue", responses={409: PROBLEM_RESPONSES[409]})
async def add_failure_mode(body: FailureModeCreate, principal: Maintainer, sessions: Sessions,
                           response: Response) -> FailureModeRead:
    async with transaction(sessions) as session:
        mode = await service.create(session=session, body=body, principal=principal)
    response.headers["Location"] = f"/failure-modes/{mode.code}"
    return with_etag(FailureModeRead, mode, response)


@router.patch("/{code}", response_model=FailureModeRead, summary="Rename, describe or retire a failure mode",
              responses={k: PROBLEM_RESPONSES[k] for k in (404, 412)})
async def update_failure_mode(code: str, body: FailureModeUpdate, principal: Maintainer, sessions: Sessions,
                              response: Response,
                              if_match: Annotated[str | None, Header(max_length=100)] = None) -> FailureModeRead:
    async with transaction(sessions) as session:
        mode = await service.update(session=session, code=code, body=body, principal=principal, if_match=if_match)
    return with_etag(FailureModeRead, mode, response)
