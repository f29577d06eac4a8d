"""HTTP: S5 specification templates (versioned) and the case's specification pack."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from services.dispatch.cases import service as cases
from services.dispatch.specifications import service
from services.dispatch.specifications.models import PackCreate, PackRead, TemplateContent, TemplateCreate, TemplateRead
from shared.api.app import Sessions
from shared.api.auth import Dispatcher, Principal, Requires, Role
from shared.api.concurrency import IfMatch, with_etag
from shared.api.problems import NotFound, problem_responses
from shared.db import transaction
from shared.messages import msg

router = APIRouter(tags=["specifications (S5)"])

Editor = Annotated[Principal, Depends(Requires(Role.DISPATCHER, Role.QUALITY_ENGINEER))]
Reader = Annotated[Principal, Depends(Requires(
    Role.DISPATCHER, Role.QUALITY_ENGINEER, Role.DEPARTMENT_HEAD, Role.REGIONAL_CENTRE))]
_ERR = problem_responses(404, 409, 412)


@router.post("/specification-templates", status_code=status.HTTP_201_CREATED, response_model=TemplateRead,
             summary="S5: a new template (version 1)", responses=_ERR)
async def create_template(body: TemplateCreate, principal: Editor, sessions: Sessions,
                          response: Response) -> TemplateRead:
    async with transaction(sessions) as session:
        template = await service.create_template(session=session, body=body, actor=principal.actor)
    return with_etag(TemplateRead, template, response)


@router.get("/specification-templates", response_model=list[TemplateRead],
            summary="S5: the newest version of each template")
async def list_templates(
    principal: Reader, sessions: Sessions,
    equipment_type: Annotated[str | None, Query(max_length=100)] = None,
    difficulty: Annotated[str | None, Query(pattern="^(low|medium|high)$")] = None,
) -> list[TemplateRead]:
    async with sessions() as session:
        rows = await service.list_templates(session=session, equipment_type=equipment_type, difficulty=difficulty)
    return [TemplateRead.model_validate(t) for t in rows]


@router.get("/specification-templates/{template_id}", response_model=TemplateRead, responses=_ERR,
            summary="S5: the newest version of a template")
async def get_template(template_id: str, principal: Reader, sessions: Sessions, response: Response) -> TemplateRead:
    async with sessions() as session:
        template = await service.latest(session=session, template_id=template_id)
    return with_etag(TemplateRead, template, response)


@router.get("/specification-templates/{template_id}/versions/{version}", response_model=TemplateRead,
            responses=_ERR, summary="S5: one version of a template")
async def get_template_version(template_id: str, version: int, principal: Reader,
                               sessions: Sessions) -> TemplateRead:
    async with sessions() as session:
        template = await service.version_of(session=session, template_id=template_id, version=version)
    return TemplateRead.model_validate(template)


@router.post("/specification-templates/{template_id}/versions", status_code=status.HTTP_201_CREATED,
             response_model=TemplateRead, responses=_ERR,
             summary="S5: revise a template (a new version; If-Match the newest) -> SpecificationTemplateRevised")
async def revise_template(template_id: str, body: TemplateContent, principal: Editor, sessions: Sessions,
                          response: Response, if_match: IfMatch = None) -> TemplateRead:
    async with transaction(sessions) as session:
        template = await service.revise_template(session=session, template_id=template_id, body=body,
                                                 actor=principal.actor, if_match=if_match)
    return with_etag(TemplateRead, template, response)


@router.post("/cases/{case_id}/specification-pack", status_code=status.HTTP_201_CREATED, response_model=PackRead,
             responses=_ERR, summary="S5: instantiate the templates for the case -> SpecificationPackAttached")
async def attach_pack(case_id: UUID, body: PackCreate, principal: Dispatcher, sessions: Sessions,
                      if_match: IfMatch = None) -> PackRead:
    async with transaction(sessions) as session:
        pack = await service.attach_pack(session=session, case_id=case_id, body=body, actor=principal.actor,
                                         if_match=if_match)
    return PackRead.model_validate(pack)


@router.get("/cases/{case_id}/specification-pack", response_model=PackRead, responses=_ERR,
            summary="S5: the case's current specification pack")
async def get_pack(case_id: UUID, principal: Reader, sessions: Sessions) -> PackRead:
    async with sessions() as session:
        await cases.get(session=session, case_id=case_id)
        pack = await service.current_pack(session=session, case_id=case_id)
    if pack is None:
        raise NotFound(msg("case {case_id} has no specification pack yet", case_id=case_id))
    return PackRead.model_validate(pack)
