"""HTTP: SLA targets per severity (configurable)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from services.quality.sla import service
from services.quality.sla.models import SlaTargetRead, SlaTargetUpdate
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.concurrency import with_etag
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction
from shared.events.quality import Severity

router = APIRouter(prefix="/sla-targets", tags=["SLA targets"])

Configurer = Annotated[Principal, Depends(Requires(Role.QUALITY_ENGINEER, Role.DEPARTMENT_HEAD))]
Reader = Annotated[Principal, Depends(Requires(Role.QUALITY_ENGINEER, Role.DEPARTMENT_HEAD, Role.DISPATCHER))]


@router.get("", response_model=list[SlaTargetRead], summary="Response and resolution targets per severity")
async def list_targets(principal: Reader, sessions: Sessions) -> list[SlaTargetRead]:
    async with sessions() as session:
        return [SlaTargetRead.model_validate(t) for t in await service.list_targets(session=session)]


@router.put("/{severity}", response_model=SlaTargetRead, responses={412: PROBLEM_RESPONSES[412]},
            summary="Set the targets of a severity (for issues logged from now on)")
async def set_target(severity: Severity, body: SlaTargetUpdate, principal: Configurer, sessions: Sessions,
                     response: Response,
                     if_match: Annotated[str | None, Header(max_length=100)] = None) -> SlaTargetRead:
    async with transaction(sessions) as session:
        target = await service.set_target(session=session, severity=severity, body=body, principal=principal,
                                          if_match=if_match)
    return with_etag(SlaTargetRead, target, response)
