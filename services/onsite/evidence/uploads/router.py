"""HTTP: resumable evidence uploads, tus 1.0 (core, creation, checksum, expiration, termination) (S19).

A client creates an upload (`POST`, with `Upload-Length` and `Upload-Metadata`), sends chunks
(`PATCH` at `Upload-Offset`), and after a dropped connection asks where to resume (`HEAD`). The
last chunk's answer names the evidence recorded (`Evidence-Id`). Decision 0092.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response, status
from starlette.requests import ClientDisconnect

from services.onsite.evidence.router import Storage
from services.onsite.evidence.uploads import domain, service
from services.onsite.evidence.uploads.models import EvidenceUpload, EvidenceUploadRead, UploadStatus
from services.onsite.visit_routes import Engineer, VisitReader
from shared.api.app import Sessions
from shared.api.problems import MEDIA_TYPE, PayloadTooLarge, Problem, ProblemDetail, UnsupportedMediaType
from shared.clock import utcnow
from shared.db import transaction
from shared.messages import msg

router = APIRouter(prefix="/visits/{visit_id}/evidence-uploads", tags=["evidence"])

# Roles as for evidence: the team's engineers upload, those who read the visit read an upload's progress.

# tus core: every request but OPTIONS names the protocol version (another one is invalid input, 422).
# A pattern, not a Literal: a one-value enum (`const`) in a header is refused by client generators.
TusResumable = Annotated[str, Header(alias="Tus-Resumable", pattern=r"^1\.0\.0$",
                                     description="The tus protocol version: `1.0.0`")]


def _problem(description: str) -> dict[str, Any]:
    return {"model": ProblemDetail, "content": {MEDIA_TYPE: {}}, "description": description}


GONE = "The upload expired (`upload-expired`) or failed (`upload-failed`): start a new one"
METADATA_KEYS = (
    "`Upload-Metadata` (tus: `key base64(value)` pairs, comma-separated): `filetype` (JPEG, PNG or PDF, "
    "required), `sha256` (hex SHA-256 of the whole file, required, checked when the last byte arrives), "
    "`attached_kind` (required) and `attached_id`, `important` (`true`/`false`), `description` as for the "
    "one-shot upload, `filename`.")


def _offset_headers(response: Response, upload: EvidenceUpload) -> Response:
    """tus: where the upload stands (and, once complete, the evidence it became)."""
    response.headers["Tus-Resumable"] = domain.TUS_VERSION
    response.headers["Upload-Offset"] = str(upload.received)
    response.headers["Upload-Length"] = str(upload.length)
    response.headers["Upload-Expires"] = domain.http_date(upload.expires_at)
    response.headers["Cache-Control"] = "no-store"
    if upload.evidence_id is not None:
        response.headers["Evidence-Id"] = str(upload.evidence_id)
    return response


def _ttl(request: Request) -> timedelta:
    return timedelta(seconds=request.app.state.settings.evidence_upload_expiry_s)


@router.options("", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
                summary="S19 resumable uploads: the tus version, extensions, largest upload and checksum algorithm",
                responses={204: {"description": "The server's tus capabilities, in headers"}})
async def describe_evidence_uploads(visit_id: UUID, request: Request, principal: Engineer) -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={
        "Tus-Resumable": domain.TUS_VERSION, "Tus-Version": domain.TUS_VERSION, "Tus-Extension": domain.TUS_EXTENSIONS,
        "Tus-Max-Size": str(request.app.state.settings.evidence_upload_max_size),
        "Tus-Checksum-Algorithm": domain.CHECKSUM_ALGORITHMS})


@router.post("", response_model=EvidenceUploadRead, status_code=status.HTTP_201_CREATED,
             summary="S19: start a resumable upload of a photo or document (tus creation; size, type, "
                     "target and SHA-256 declared)",
             description="The body is empty; the upload is described by headers. " + METADATA_KEYS,
             responses={404: _problem("No such visit (or not yours), or no such record to attach to"),
                        409: _problem("The visit is not open for work on site"),
                        413: _problem("`Upload-Length` is larger than the resumable upload limit"),
                        415: _problem("The media type is not accepted")})
async def create_evidence_upload(
    visit_id: UUID, request: Request, response: Response, principal: Engineer, sessions: Sessions,
    upload_length: Annotated[int, Header(alias="Upload-Length", ge=0, description="The file's size in bytes")],
    upload_metadata: Annotated[str, Header(alias="Upload-Metadata", description=METADATA_KEYS)],
    tus_resumable: TusResumable,
) -> EvidenceUploadRead:
    settings = request.app.state.settings
    declared = service.declaration(upload_metadata)
    async with transaction(sessions) as session:
        upload = await service.create(
            session=session, visit_id=visit_id, length=upload_length, declared=declared,
            max_bytes=settings.evidence_upload_max_size, allowed=settings.evidence_content_types,
            ttl=_ttl(request), now=utcnow(), principal=principal)
    response.headers["Location"] = f"/visits/{visit_id}/evidence-uploads/{upload.id}"
    _offset_headers(response=response, upload=upload)
    return EvidenceUploadRead.model_validate(upload)


@router.head("/{upload_id}", status_code=status.HTTP_200_OK, response_class=Response,
             summary="S19: where a resumable upload stands (tus: `Upload-Offset`, the next chunk starts there)",
             responses={200: {"description": "The upload's offset, length and expiry, in headers (no body)"},
                        404: {"description": "No such upload on this visit"}, 410: {"description": GONE}})
async def get_evidence_upload_offset(visit_id: UUID, upload_id: UUID, principal: VisitReader,
                                     sessions: Sessions, tus_resumable: TusResumable) -> Response:
    async with sessions() as session:
        upload = await service.get(session=session, visit_id=visit_id, upload_id=upload_id, principal=principal,
                                   now=utcnow())
    return _offset_headers(response=Response(status_code=status.HTTP_200_OK), upload=upload)


@router.get("/{upload_id}", response_model=EvidenceUploadRead,
            summary="S19: a resumable upload: its offset, its expiry, and the evidence it became",
            responses={410: _problem(GONE)})
async def read_evidence_upload(visit_id: UUID, upload_id: UUID, response: Response, principal: VisitReader,
                               sessions: Sessions) -> EvidenceUploadRead:
    async with sessions() as session:
        upload = await service.get(session=session, visit_id=visit_id, upload_id=upload_id, principal=principal,
                                   now=utcnow())
    _offset_headers(response=response, upload=upload)
    return EvidenceUploadRead.model_validate(upload)


@router.patch("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
              summary="S19: the next chunk of a resumable upload (tus); with the last byte the SHA-256 is "
                      "checked and the evidence recorded -> EvidenceAttached",
              openapi_extra={"requestBody": {"required": True, "description": "The chunk's bytes", "content": {
                  domain.CHUNK_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
              responses={204: {"description": "Stored; `Upload-Offset` is the new offset, `Evidence-Id` the "
                                               "evidence once the upload is complete"},
                         403: _problem("Only the engineer who started the upload sends its chunks"),
                         409: _problem("The chunk does not start at the upload's offset (`upload_offset` says "
                                       "where to resume), or the upload is complete"),
                         410: _problem(GONE),
                         413: _problem("The chunk is larger than a request may be, or passes `Upload-Length`"),
                         415: _problem("Not `application/offset+octet-stream`, or the first bytes are not of "
                                      "the declared type"),
                         422: _problem("Invalid headers, or the whole upload does not match its declared "
                                       "SHA-256 (`upload-hash-mismatch`: the upload is failed, nothing "
                                       "recorded), or the evidence was refused"),
                         460: _problem("The chunk does not match its `Upload-Checksum` (not stored)")})
async def append_evidence_chunk(
    visit_id: UUID, upload_id: UUID, request: Request, principal: Engineer, sessions: Sessions, storage: Storage,
    tus_resumable: TusResumable,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0,
                                         description="Where this chunk starts: the upload's offset")],
    upload_checksum: Annotated[str | None, Header(alias="Upload-Checksum",
                                                  description="`sha256 <base64 digest>` of this chunk")] = None,
) -> Response:
    checksum = domain.parse_checksum(upload_checksum)
    settings = request.app.state.settings
    chunk = await _read_chunk(request, settings.evidence_upload_chunk_max_bytes)
    async with transaction(sessions) as session:
        upload, refused = await service.append(
            session=session, storage=storage, visit_id=visit_id, upload_id=upload_id, claimed=upload_offset,
            chunk=chunk, checksum=checksum, chunk_max=settings.evidence_upload_chunk_max_bytes,
            max_bytes=settings.evidence_upload_max_size, allowed=settings.evidence_content_types,
            ttl=_ttl(request), now=utcnow(), principal=principal)
    if upload.status != UploadStatus.RECEIVING:
        await service.discard_chunks(storage=storage, upload=upload)
    if refused is not None:
        raise refused  # after the commit: the upload is kept as failed, and nothing was recorded
    return _offset_headers(response=Response(status_code=status.HTTP_204_NO_CONTENT), upload=upload)


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="S19: abandon a resumable upload (tus termination; the evidence of a complete one stays)",
               responses={403: _problem("Only the engineer who started the upload cancels it")})
async def cancel_evidence_upload(visit_id: UUID, upload_id: UUID, principal: Engineer, sessions: Sessions,
                                 storage: Storage, tus_resumable: TusResumable) -> Response:
    async with transaction(sessions) as session:
        upload = await service.cancel(session=session, visit_id=visit_id, upload_id=upload_id, principal=principal)
    await service.discard_chunks(storage=storage, upload=upload)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"Tus-Resumable": domain.TUS_VERSION})


async def _read_chunk(request: Request, limit: int) -> bytes:
    """The request body, the chunk: of the tus media type, at most `limit` bytes."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != domain.CHUNK_MEDIA_TYPE:
        raise UnsupportedMediaType(msg("a chunk is sent as {chunk_media_type}, not {media_type}",
            chunk_media_type=domain.CHUNK_MEDIA_TYPE, media_type=media_type or 'no type'))
    chunk = bytearray()
    try:
        async for piece in request.stream():
            chunk += piece
            if len(chunk) > limit:
                raise PayloadTooLarge(msg("a chunk has at most {limit} bytes; send smaller chunks", limit=limit))
    except ClientDisconnect:
        # The connection dropped mid-chunk: nothing of it is kept; the client resumes from the last offset.
        raise Problem(msg("the client disconnected before the chunk's end; nothing of it was stored")) from None
    return bytes(chunk)
