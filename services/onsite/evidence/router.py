"""HTTP: evidence uploads and downloads (S19)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, status

from services.onsite.evidence import service
from services.onsite.evidence.models import AttachedKind, EvidenceConfirmation, EvidenceRead
from services.onsite.visit_routes import Engineer, VisitReader, page_route
from services.onsite.visits import service as visits
from services.onsite.work.models import MilestoneRead
from shared.api.app import Sessions
from shared.api.openapi import binary_response
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction
from shared.storage import FileStorage, LocalFolderStorage

EVIDENCE_TYPES = ("image/jpeg", "image/png", "application/pdf")  # the default of EVIDENCE_CONTENT_TYPES

router = APIRouter(prefix="/visits/{visit_id}", tags=["evidence"])



async def get_storage(request: Request) -> FileStorage:
    """The evidence storage of this app (a local folder from settings unless one is set on app.state)."""
    storage = getattr(request.app.state, "evidence_storage", None)
    if storage is None:
        storage = request.app.state.evidence_storage = LocalFolderStorage(request.app.state.settings.evidence_dir)
    return storage


Storage = Annotated[FileStorage, Depends(get_storage)]


@router.post("/evidence", response_model=EvidenceRead, status_code=status.HTTP_201_CREATED,
             summary="S19: upload a photo or document (size/type limits, SHA-256 stored) -> EvidenceAttached",
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409)})
async def upload_evidence(
    visit_id: UUID, request: Request, principal: Engineer, sessions: Sessions, storage: Storage,
    file: Annotated[UploadFile, File(description="JPEG, PNG or PDF")],
    attached_kind: Annotated[AttachedKind, Form()],
    attached_id: Annotated[UUID | None, Form()] = None,
    important: Annotated[bool, Form()] = False,
    description: Annotated[str | None, Form(max_length=2000)] = None,
) -> EvidenceRead:
    settings = request.app.state.settings
    data = await file.read(settings.evidence_max_bytes + 1)
    async with transaction(sessions) as session:
        evidence = await service.upload(
            session=session, storage=storage, visit_id=visit_id, data=data, filename=file.filename or "upload",
            content_type=file.content_type or "", attached_kind=attached_kind, attached_id=attached_id,
            important=important, description=description, max_bytes=settings.evidence_max_bytes,
            allowed=settings.evidence_content_types, principal=principal)
        return EvidenceRead.model_validate(evidence)


page_route(router, "/evidence", read=EvidenceRead, rows=service.list_evidence, name="list_evidence",
           summary="S19: the visit's evidence")


@router.get("/evidence/{evidence_id}/content", summary="S19: download a file (its SHA-256 checked first)",
            response_class=Response, responses={200: binary_response(*EVIDENCE_TYPES, description="The file"),
                                                 404: PROBLEM_RESPONSES[404]})
async def download_evidence(visit_id: UUID, evidence_id: UUID, principal: VisitReader, sessions: Sessions,
                   storage: Storage) -> Response:
    async with sessions() as session:
        evidence = await service.get(session=session, visit_id=visit_id, evidence_id=evidence_id, principal=principal)
    data = await service.content(storage=storage, evidence=evidence)
    return Response(data, media_type=evidence.content_type, headers={
        "Digest": f"sha-256={evidence.sha256}", "X-Content-SHA256": evidence.sha256,
        "Content-Disposition": f'attachment; filename="{evidence.id}"'})


@router.post("/evidence/{evidence_id}/confirmation", response_model=EvidenceRead,
             summary="S19: the customer confirms important evidence -> EvidenceConfirmed",
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409)})
async def confirm_evidence(visit_id: UUID, evidence_id: UUID, body: EvidenceConfirmation, principal: Engineer,
                  sessions: Sessions) -> EvidenceRead:
    async with transaction(sessions) as session:
        return EvidenceRead.model_validate(await service.confirm(
            session=session, visit_id=visit_id, evidence_id=evidence_id, confirmed_by=body.confirmed_by,
            principal=principal))


@router.get("/milestones-without-evidence", response_model=list[MilestoneRead],
            summary="S19: milestones that have no photo or document yet")
async def milestones_without_evidence(visit_id: UUID, principal: VisitReader,
                                      sessions: Sessions) -> list[MilestoneRead]:
    async with sessions() as session:
        await visits.get(session=session, visit_id=visit_id, principal=principal)
        return [MilestoneRead.model_validate(m) for m in await service.milestones_without_evidence(
            session=session, visit_id=visit_id)]
