"""HTTP: evidence files of quality issues (multipart upload, checked download)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile, status

from services.quality.evidence import service
from services.quality.evidence.models import IssueEvidenceRead
from services.quality.settings import DEFAULT_EVIDENCE_TYPES
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.openapi import binary_response
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(prefix="/issues/{issue_id}/evidence", tags=["quality issue evidence"])

Uploader = Annotated[Principal, Depends(Requires(Role.ENGINEER, Role.QUALITY_ENGINEER))]
Reader = Annotated[Principal, Depends(Requires(
    Role.ENGINEER, Role.QUALITY_ENGINEER, Role.DISPATCHER, Role.DEPARTMENT_HEAD))]


@router.post("", response_model=IssueEvidenceRead, status_code=status.HTTP_201_CREATED,
             summary="S25: attach an evidence file (type and size limited; SHA-256 recorded)",
             responses={404: PROBLEM_RESPONSES[404], 413: {"description": "File too large"},
                        415: {"description": "File type not accepted"}})
async def attach_evidence(issue_id: UUID, file: Annotated[UploadFile, File()], principal: Uploader,
                          sessions: Sessions, request: Request, response: Response) -> IssueEvidenceRead:
    async with transaction(sessions) as session:
        evidence = await service.attach(session=session, issue_id=issue_id, upload=file, principal=principal,
                                        settings=request.app.state.settings)
    response.headers["Location"] = f"/issues/{issue_id}/evidence/{evidence.id}"
    return IssueEvidenceRead.model_validate(evidence)


@router.get("", response_model=list[IssueEvidenceRead], summary="Evidence files of an issue")
async def list_evidence(issue_id: UUID, principal: Reader, sessions: Sessions) -> list[IssueEvidenceRead]:
    async with sessions() as session:
        return [IssueEvidenceRead.model_validate(e)
                for e in await service.list_for_issue(session=session, issue_id=issue_id, principal=principal)]


@router.get("/{evidence_id}", summary="Download an evidence file (its SHA-256 is checked first)",
            response_class=Response, responses={200: binary_response(*DEFAULT_EVIDENCE_TYPES, description="The file"),
                                                 404: PROBLEM_RESPONSES[404], 409: PROBLEM_RESPONSES[409]})
async def download_evidence(issue_id: UUID, evidence_id: UUID, principal: Reader, sessions: Sessions,
                            request: Request) -> Response:
    async with sessions() as session:
        evidence, content = await service.fetch(session=session, issue_id=issue_id, evidence_id=evidence_id,
                                                principal=principal, settings=request.app.state.settings)
    return Response(content, media_type=evidence.content_type, headers={
        "Content-Disposition": f'attachment; filename="{evidence.filename}"',
        "X-Content-SHA256": evidence.sha256})
