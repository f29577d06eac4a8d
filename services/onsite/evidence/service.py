"""S19 evidence: uploads checked for size and type, stored with their SHA-256, verified on download."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.events import emit
from services.onsite.evidence.models import EvidenceFile
from services.onsite.visits import service as visits
from services.onsite.visits.models import SiteVisit
from services.onsite.work.models import Milestone, ProcessDataRecord, SiteTask
from shared.api.auth import Principal
from shared.api.problems import (
    GateRefused,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Problem,
    UnsupportedMediaType,
)
from shared.clock import utcnow
from shared.events.onsite import EvidenceAttached, EvidenceConfirmed
from shared.messages import msg
from shared.storage import FileStorage

# The first bytes of each accepted type: the declared content type must match the content.
MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "application/pdf": (b"%PDF-",)}
CHECKED_TARGETS: dict[str, type[SiteTask] | type[ProcessDataRecord] | type[Milestone]] = {
    "task": SiteTask, "process_data": ProcessDataRecord, "milestone": Milestone}


class EvidenceCorrupted(Problem):
    """The stored bytes no longer match the SHA-256 recorded at upload."""

    status, slug, title = 500, "evidence-integrity", "Evidence integrity check failed"


# Enough of a file's first bytes for every signature in MAGIC.
HEAD_BYTES = 16


@dataclass(frozen=True)
class Content:
    """An upload's bytes as the S19 checks see them (size, first bytes, SHA-256) and how to store them:
    the one-shot upload holds them in memory, a resumable upload composes its stored chunks."""

    size: int
    head: bytes
    sha256: str
    write: Callable[[str], Awaitable[None]]  # stores the bytes under a storage key


def check_content(*, size: int, head: bytes, content_type: str, max_bytes: int, allowed: list[str]) -> str:
    """S19: size and type limits, the first bytes matching the declared type; returns the base content type."""
    if size <= 0:
        raise InvalidInput(msg("the file is empty"), field="file")
    if size > max_bytes:
        raise PayloadTooLarge(msg("the file has {size} bytes; at most {max_bytes} are accepted",
            size=size, max_bytes=max_bytes))
    base_type = check_media_type(content_type, allowed)
    if base_type in MAGIC and not head.startswith(MAGIC[base_type]):
        raise UnsupportedMediaType(msg("the content is not a {base_type} file", base_type=base_type))
    return base_type


def check_media_type(content_type: str, allowed: list[str]) -> str:
    """S19: evidence is one of the accepted media types; returns the base type (parameters dropped)."""
    base_type = content_type.split(";")[0].strip().lower()
    if base_type not in allowed:
        raise UnsupportedMediaType(msg("{base_type} is not accepted; use one of {allowed}",
            base_type=base_type or 'no content type', allowed=', '.join(allowed)))
    return base_type


def check_upload(*, data: bytes, content_type: str, max_bytes: int, allowed: list[str]) -> str:
    """S19: size and type limits; returns the SHA-256 of the content."""
    check_content(size=len(data), head=data[:HEAD_BYTES], content_type=content_type, max_bytes=max_bytes,
                  allowed=allowed)
    return hashlib.sha256(data).hexdigest()


async def check_target(*, session: AsyncSession, visit: SiteVisit, attached_kind: str,
                       attached_id: UUID | None) -> None:
    """S19: evidence for a task, a process value or a milestone names one of this visit's."""
    model = CHECKED_TARGETS.get(attached_kind)
    if model is None:
        return
    if attached_id is None:
        raise InvalidInput(msg("evidence for a {attached_kind} needs attached_id",
            attached_kind=attached_kind), field="attached_id")
    found = (await session.execute(select(col(model.id)).where(
        col(model.id) == attached_id, col(model.visit_id) == visit.id))).first()
    if found is None:
        raise NotFound(msg("{attached_kind} {attached_id} does not exist on this visit",
            attached_kind=attached_kind, attached_id=attached_id))


async def upload(*, session: AsyncSession, storage: FileStorage, visit_id: UUID, data: bytes, filename: str,
                 content_type: str, attached_kind: str, attached_id: UUID | None, important: bool,
                 description: str | None, max_bytes: int, allowed: list[str], principal: Principal) -> EvidenceFile:
    """S19: store a photo or document attached to a record of the visit -> EvidenceAttached."""

    async def write(key: str) -> None:
        await storage.put(key, data)

    content = Content(size=len(data), head=data[:HEAD_BYTES], sha256=hashlib.sha256(data).hexdigest(), write=write)
    return await attach(session=session, visit_id=visit_id, content=content, filename=filename,
                        content_type=content_type, attached_kind=attached_kind, attached_id=attached_id,
                        important=important, description=description, max_bytes=max_bytes, allowed=allowed,
                        principal=principal)


async def attach(*, session: AsyncSession, visit_id: UUID, content: Content, filename: str, content_type: str,
                 attached_kind: str, attached_id: UUID | None, important: bool, description: str | None,
                 max_bytes: int, allowed: list[str], principal: Principal) -> EvidenceFile:
    """S19: check and store an upload's bytes and record them as evidence of the visit -> EvidenceAttached.

    The one path of every upload, one-shot or resumable."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    base_type = check_content(size=content.size, head=content.head, content_type=content_type,
                              max_bytes=max_bytes, allowed=allowed)
    await check_target(session=session, visit=visit, attached_kind=attached_kind, attached_id=attached_id)
    evidence_id = uuid4()
    key = f"{visit.id}/{evidence_id}"
    # Written before the row commits: a failed commit leaves an unreferenced file, never a row without bytes.
    await content.write(key)
    evidence = EvidenceFile(
        id=evidence_id, visit_id=visit.id, attached_kind=attached_kind, attached_id=attached_id,
        filename=filename[:255] or "upload", content_type=base_type, size=content.size,
        sha256=content.sha256, storage_key=key, important=important, description=description,
        uploaded_by=principal.subject, uploaded_at=utcnow(),
    )
    session.add(evidence)
    emit(session, EvidenceAttached(
        case_id=visit.case_id, visit_id=visit.id, evidence_id=evidence_id, sha256=content.sha256,
        content_type=evidence.content_type, size=content.size,
        attached_to=f"{attached_kind}:{attached_id}" if attached_id else attached_kind,
    ), case_id=visit.case_id, actor=principal.actor)
    return evidence


async def get(*, session: AsyncSession, visit_id: UUID, evidence_id: UUID, principal: Principal,
              for_update: bool = False) -> EvidenceFile:
    await visits.get(session=session, visit_id=visit_id, principal=principal)
    stmt = select(EvidenceFile).where(col(EvidenceFile.id) == evidence_id, col(EvidenceFile.visit_id) == visit_id)
    if for_update:
        stmt = stmt.with_for_update()
    evidence = (await session.execute(stmt)).scalar_one_or_none()
    if evidence is None:
        raise NotFound(msg("evidence {evidence_id} does not exist on this visit", evidence_id=evidence_id))
    return evidence


async def content(*, storage: FileStorage, evidence: EvidenceFile) -> bytes:
    """The stored bytes, checked against the SHA-256 recorded at upload."""
    try:
        data = await storage.get(evidence.storage_key)
    except FileNotFoundError:
        raise EvidenceCorrupted(msg("the file of evidence {id} is missing from storage", id=evidence.id)) from None
    if hashlib.sha256(data).hexdigest() != evidence.sha256:
        raise EvidenceCorrupted(msg("evidence {id} does not match its recorded SHA-256", id=evidence.id))
    return data


async def confirm(*, session: AsyncSession, visit_id: UUID, evidence_id: UUID, confirmed_by: str,
                  principal: Principal) -> EvidenceFile:
    """S19: important evidence confirmed by the customer -> EvidenceConfirmed."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    evidence = await get(session=session, visit_id=visit_id, evidence_id=evidence_id, principal=principal,
                         for_update=True)
    if evidence.confirmed_at is not None:
        raise GateRefused(msg("evidence confirmation"),
                          [msg("S19: evidence {evidence_id} was already confirmed by {confirmed_by_customer}",
                              evidence_id=evidence_id, confirmed_by_customer=evidence.confirmed_by_customer)])
    evidence.confirmed_by_customer, evidence.confirmed_at = confirmed_by, utcnow()
    emit(session, EvidenceConfirmed(case_id=visit.case_id, visit_id=visit.id, evidence_id=evidence.id,
                                    confirmed_by=confirmed_by), case_id=visit.case_id, actor=principal.actor)
    return evidence


async def list_evidence(*, session: AsyncSession, visit_id: UUID, limit: int,
                        cursor: str | None) -> tuple[list[EvidenceFile], str | None]:
    return await visits.page_on(session, EvidenceFile, visit_id, EvidenceFile.uploaded_at, limit=limit, cursor=cursor)


async def milestones_without_evidence(*, session: AsyncSession, visit_id: UUID) -> list[Milestone]:
    """S19: every milestone result needs a photo or document; these have none yet."""
    with_evidence = select(col(EvidenceFile.attached_id)).where(col(EvidenceFile.visit_id) == visit_id,
                                                                col(EvidenceFile.attached_kind) == "milestone")
    return list((await session.execute(select(Milestone).where(
        col(Milestone.visit_id) == visit_id, col(Milestone.id).not_in(with_evidence))
        .order_by(col(Milestone.created_at)))).scalars())
