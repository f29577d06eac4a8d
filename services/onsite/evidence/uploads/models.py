"""S19 resumable uploads: the upload session, its declaration and its read shape."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field, field_validator
from sqlalchemy import BigInteger, Column
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field as SQLField

from services.onsite.evidence.models import AttachedKind
from services.onsite.visits.models import OnVisit
from shared.api.shapes import RowRead, StrictBody
from shared.db import timestamptz


class UploadStatus(StrEnum):
    RECEIVING = "receiving"
    COMPLETED = "completed"
    FAILED = "failed"


class EvidenceUpload(OnVisit, table=True):
    """An upload in progress: what it will be evidence of, its declared size and SHA-256, and the chunks
    received so far (each stored under `uploads/<id>/<offset>` as it arrives)."""

    __tablename__ = "evidence_upload"

    status: str = UploadStatus.RECEIVING
    length: int = SQLField(sa_column=Column(BigInteger, nullable=False))
    received: int = SQLField(sa_column=Column(BigInteger, nullable=False))
    # The offset of each stored chunk, in order: the chunks are contiguous, so these say where each ends.
    chunk_offsets: list[int] = SQLField(default_factory=list, sa_column=Column(ARRAY(BigInteger), nullable=False))
    filename: str
    content_type: str
    sha256: str
    attached_kind: str
    attached_id: UUID | None = None
    important: bool = False
    description: str | None = None
    created_by: str
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    expires_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False, index=True))
    evidence_id: UUID | None = None
    failure: str | None = None


class EvidenceUploadDeclaration(StrictBody):
    """What a resumable upload will be, from its tus `Upload-Metadata`: the one-shot upload's fields
    (`attached_kind`, `attached_id`, `important`, `description`), the file's name and media type, and
    the SHA-256 of the whole file, checked when its last byte arrives."""


    filename: str = Field(default="upload", max_length=255)
    filetype: str = Field(min_length=1, max_length=200, description="The media type (JPEG, PNG or PDF)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="The SHA-256 of the whole file, hex")
    attached_kind: AttachedKind
    attached_id: UUID | None = None
    important: bool = False
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("sha256", mode="before")
    @classmethod
    def _lower_hex(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class EvidenceUploadRead(RowRead):
    """A resumable upload: how far it is, and the evidence it became once complete."""

    visit_id: UUID
    status: UploadStatus
    length: int = Field(description="The declared total size in bytes (`Upload-Length`)")
    offset: int = Field(validation_alias="received",
                        description="The bytes received and stored (`Upload-Offset`): the next chunk starts here")
    filename: str
    content_type: str
    sha256: str = Field(description="The declared SHA-256 of the whole file")
    attached_kind: AttachedKind
    attached_id: UUID | None
    important: bool
    description: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime = Field(description="When the upload expires unless more of it arrives")
    evidence_id: UUID | None = Field(description="The evidence recorded when the last byte arrived")
