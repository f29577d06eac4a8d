"""Evidence operations: attach (limits, SHA-256) and fetch (checked against the stored SHA-256)."""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid4

from fastapi import UploadFile
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.evidence.models import IssueEvidence
from services.quality.issues import service as issues
from services.quality.issues.models import IssueJournalEntry
from services.quality.settings import QualitySettings
from shared.api.auth import Principal
from shared.api.problems import Conflict, InvalidInput, NotFound, UnsupportedMediaType
from shared.clock import utcnow
from shared.messages import msg
from shared.storage import LocalFolderStorage


async def attach(*, session: AsyncSession, issue_id: UUID, upload: UploadFile, principal: Principal,
                 settings: QualitySettings) -> IssueEvidence:
    """S25: attach a file to an issue (allowed types only, size limited); its SHA-256 is stored."""
    issue = await issues.get(session=session, issue_id=issue_id, principal=principal)
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in settings.evidence_content_types:
        raise UnsupportedMediaType(msg("evidence of type {content_type} is not accepted; allowed: "
            "{evidence_content_types}",
            content_type=content_type or 'unknown', evidence_content_types=', '.join(settings.evidence_content_types)))
    filename = (upload.filename or "evidence").replace("/", "_").replace("\\", "_")[:255]
    if not filename.strip():
        raise InvalidInput(msg("the evidence file needs a name"),
                           errors=[{"field": "file", "message": msg("no filename")}])
    evidence_id = uuid4()
    key = f"{issue.id}/{evidence_id}"
    size, sha256 = await LocalFolderStorage(settings.evidence_dir).save_upload(
        upload, key, max_bytes=settings.evidence_max_bytes)
    now = utcnow()
    evidence = IssueEvidence(id=evidence_id, issue_id=issue.id, filename=filename, content_type=content_type,
                             size_bytes=size, sha256=sha256, storage_key=key, uploaded_at=now,
                             uploaded_by=principal.actor)
    session.add(evidence)
    session.add(IssueJournalEntry(issue_id=issue.id, kind="evidence_added", at=now, by=principal.actor,
                                  data={"evidence_id": str(evidence_id), "filename": filename, "sha256": sha256}))
    return evidence


async def list_for_issue(*, session: AsyncSession, issue_id: UUID, principal: Principal) -> list[IssueEvidence]:
    await issues.get(session=session, issue_id=issue_id, principal=principal)
    stmt = (select(IssueEvidence).where(col(IssueEvidence.issue_id) == issue_id)
            .order_by(col(IssueEvidence.uploaded_at)))
    return list((await session.execute(stmt)).scalars())


async def fetch(*, session: AsyncSession, issue_id: UUID, evidence_id: UUID, principal: Principal,
                settings: QualitySettings) -> tuple[IssueEvidence, bytes]:
    """The file, refused (409) if its bytes no longer match the SHA-256 recorded at upload."""
    await issues.get(session=session, issue_id=issue_id, principal=principal)
    evidence = await session.get(IssueEvidence, evidence_id)
    if evidence is None or evidence.issue_id != issue_id:
        raise NotFound(msg("evidence {evidence_id} of issue {issue_id} does not exist",
            evidence_id=evidence_id, issue_id=issue_id))
    try:
        content = await LocalFolderStorage(settings.evidence_dir).get(evidence.storage_key)
    except FileNotFoundError:
        raise Conflict(msg("the stored file of evidence {evidence_id} is missing", evidence_id=evidence_id)) from None
    if hashlib.sha256(content).hexdigest() != evidence.sha256:
        raise Conflict(msg("the stored file of evidence {evidence_id} does not match its SHA-256; it was altered",
            evidence_id=evidence_id))
    return evidence, content
