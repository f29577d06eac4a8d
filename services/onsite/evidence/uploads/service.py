"""S19 resumable uploads: sessions created, chunks stored as they arrive, the whole checked and recorded
as evidence through the one-shot upload's own path; expired sessions purged. Never commits."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.evidence import service as evidence
from services.onsite.evidence.uploads import domain
from services.onsite.evidence.uploads.models import EvidenceUpload, EvidenceUploadDeclaration, UploadStatus
from services.onsite.visits import service as visits
from shared.api.auth import Principal
from shared.api.problems import Forbidden, InvalidInput, NotFound, Problem
from shared.messages import msg
from shared.storage import FileStorage

PURGE_BATCH = 200


def declaration(metadata_header: str) -> EvidenceUploadDeclaration:
    """The upload's declaration from its `Upload-Metadata`, each offending key named."""
    metadata = domain.parse_metadata(metadata_header)
    try:
        return EvidenceUploadDeclaration.model_validate(metadata)
    except ValidationError as exc:
        errors = [{"field": "Upload-Metadata." + ".".join(str(p) for p in e["loc"]), "message": e["msg"],
                   "type": e["type"]} for e in exc.errors()]
        raise InvalidInput(msg("Upload-Metadata: invalid {fields}", fields=", ".join(e["field"] for e in errors)),
                           errors=errors, field="Upload-Metadata") from None


async def create(*, session: AsyncSession, visit_id: UUID, length: int, declared: EvidenceUploadDeclaration,
                 max_bytes: int, allowed: list[str], ttl: timedelta, now: datetime,
                 principal: Principal) -> EvidenceUpload:
    """S19: open a resumable upload; the one-shot upload's checks that need no bytes are made now
    (an open visit of the engineer's team, the size, the media type, the record it is for)."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    domain.check_declared_length(length, max_bytes)
    content_type = evidence.check_media_type(declared.filetype, allowed)
    await evidence.check_target(session=session, visit=visit, attached_kind=declared.attached_kind,
                                attached_id=declared.attached_id)
    upload = EvidenceUpload(
        visit_id=visit.id, length=length, received=0, chunk_offsets=[], filename=declared.filename or "upload",
        content_type=content_type, sha256=declared.sha256, attached_kind=declared.attached_kind,
        attached_id=declared.attached_id, important=declared.important, description=declared.description,
        created_by=principal.subject, created_at=now, expires_at=now + ttl)
    session.add(upload)
    return upload


async def get(*, session: AsyncSession, visit_id: UUID, upload_id: UUID, principal: Principal, now: datetime,
              for_update: bool = False) -> EvidenceUpload:
    """An upload of a visit the caller may read; expired (lazily, before the purge) or failed: 410."""
    await visits.get(session=session, visit_id=visit_id, principal=principal)
    stmt = select(EvidenceUpload).where(col(EvidenceUpload.id) == upload_id,
                                        col(EvidenceUpload.visit_id) == visit_id)
    if for_update:
        stmt = stmt.with_for_update()
    upload = (await session.execute(stmt)).scalar_one_or_none()
    if upload is None:
        raise NotFound(msg("evidence upload {upload_id} does not exist on this visit", upload_id=upload_id))
    if domain.is_expired(upload.expires_at, now):
        raise domain.UploadExpired(msg("evidence upload {upload_id} expired at {expires_at}; start a new one",
            upload_id=upload_id, expires_at=upload.expires_at.isoformat()))
    if upload.status == UploadStatus.FAILED:
        raise domain.UploadFailed(msg("evidence upload {upload_id} failed: {failure}",
            upload_id=upload_id, failure=upload.failure))
    return upload


def _require_its_engineer(upload: EvidenceUpload, principal: Principal) -> None:
    if upload.created_by != principal.subject:
        raise Forbidden(msg("only the engineer who started an upload sends its chunks or cancels it"))


async def append(*, session: AsyncSession, storage: FileStorage, visit_id: UUID, upload_id: UUID, claimed: int,
                 chunk: bytes, checksum: bytes | None, chunk_max: int, max_bytes: int, allowed: list[str],
                 ttl: timedelta, now: datetime, principal: Principal) -> tuple[EvidenceUpload, Problem | None]:
    """S19: store a chunk where the upload's bytes end; with the last byte, check the whole and record
    the evidence. Returns the upload and, when the upload failed at completion, the problem to answer
    (the failure itself is part of this unit of work: it is kept)."""
    upload = await get(session=session, visit_id=visit_id, upload_id=upload_id, principal=principal, now=now,
                       for_update=True)
    _require_its_engineer(upload, principal)
    if upload.status == UploadStatus.COMPLETED:
        raise domain.UploadOffsetMismatch(msg("evidence upload {upload_id} is complete (evidence {evidence_id})",
            upload_id=upload_id, evidence_id=upload.evidence_id),
                                         upload_offset=upload.received)
    offset = domain.next_offset(claimed=claimed, offset=upload.received, length=upload.length,
                               chunk_size=len(chunk), chunk_max=chunk_max)
    domain.check_chunk_checksum(chunk, checksum)
    if upload.received == 0 and (len(chunk) >= evidence.HEAD_BYTES or offset == upload.length):
        # The first bytes must match the declared type: refuse a wrong file now, not after 200 MiB.
        evidence.check_content(size=upload.length, head=chunk[:evidence.HEAD_BYTES],
                               content_type=upload.content_type, max_bytes=max_bytes, allowed=allowed)
    if chunk:
        # Stored before the offset commits: a crash in between leaves a chunk nobody counts, which the
        # client's retry at the same offset replaces.
        await storage.put(domain.chunk_key(upload.id, upload.received), chunk)
        upload.chunk_offsets = [*upload.chunk_offsets, upload.received]
        upload.received = offset
    upload.expires_at = now + ttl
    if upload.received < upload.length:
        return upload, None
    return upload, await _complete(session=session, storage=storage, upload=upload, max_bytes=max_bytes,
                                   allowed=allowed, principal=principal)


def chunk_keys(upload: EvidenceUpload) -> list[str]:
    return [domain.chunk_key(upload.id, offset) for offset in upload.chunk_offsets]


async def _complete(*, session: AsyncSession, storage: FileStorage, upload: EvidenceUpload, max_bytes: int,
                    allowed: list[str], principal: Principal) -> Problem | None:
    """S19: the whole upload against its declared SHA-256, then recorded exactly as a one-shot upload."""
    parts = chunk_keys(upload)
    digest, head, size = hashlib.sha256(), b"", 0
    for key in parts:  # one chunk in memory at a time
        data = await storage.get(key)
        digest.update(data)
        head += data[:evidence.HEAD_BYTES - len(head)]
        size += len(data)
    sha256 = digest.hexdigest()
    if sha256 != upload.sha256 or size != upload.length:
        upload.status = UploadStatus.FAILED
        upload.failure = (f"the {size} bytes received have SHA-256 {sha256}, not the declared {upload.sha256}; "
                          "nothing was recorded")
        return domain.UploadHashMismatch(upload.failure, field="Upload-Metadata.sha256")

    async def write(key: str) -> None:
        await storage.compose(key, parts)

    content = evidence.Content(size=size, head=head, sha256=sha256, write=write)
    try:
        async with session.begin_nested():  # a refusal undoes the evidence, not the chunks received
            recorded = await evidence.attach(
                session=session, visit_id=upload.visit_id, content=content, filename=upload.filename,
                content_type=upload.content_type, attached_kind=upload.attached_kind,
                attached_id=upload.attached_id, important=upload.important, description=upload.description,
                max_bytes=max_bytes, allowed=allowed, principal=principal)
    except Problem as refused:
        await session.refresh(upload)
        upload.status = UploadStatus.FAILED
        upload.failure = f"the evidence was refused: {refused.detail}"
        return refused
    upload.status, upload.evidence_id = UploadStatus.COMPLETED, recorded.id
    return None


async def cancel(*, session: AsyncSession, visit_id: UUID, upload_id: UUID, principal: Principal) -> EvidenceUpload:
    """tus termination: the engineer abandons an upload (a completed one's evidence stays)."""
    await visits.get(session=session, visit_id=visit_id, principal=principal)
    upload = (await session.execute(select(EvidenceUpload).where(
        col(EvidenceUpload.id) == upload_id, col(EvidenceUpload.visit_id) == visit_id)
        .with_for_update())).scalar_one_or_none()
    if upload is None:
        raise NotFound(msg("evidence upload {upload_id} does not exist on this visit", upload_id=upload_id))
    _require_its_engineer(upload, principal)
    await session.delete(upload)
    return upload


async def discard_chunks(*, storage: FileStorage, upload: EvidenceUpload) -> None:
    """The chunks of a finished or cancelled upload (after its unit of work committed)."""
    await storage.delete(*chunk_keys(upload))


async def purge_expired(*, session: AsyncSession, storage: FileStorage, now: datetime) -> int:
    """Expired uploads (whatever their state) go with their chunks; returns how many went."""
    expired = list((await session.execute(
        select(EvidenceUpload).where(col(EvidenceUpload.expires_at) <= now)
        .order_by(col(EvidenceUpload.expires_at)).limit(PURGE_BATCH).with_for_update(skip_locked=True)))
        .scalars())
    for upload in expired:
        # A row gone without its chunks never happens: if the commit fails, the next run deletes again.
        await storage.delete(*chunk_keys(upload))
    if expired:
        await session.execute(delete(EvidenceUpload).where(col(EvidenceUpload.id).in_([u.id for u in expired])))
    return len(expired)
