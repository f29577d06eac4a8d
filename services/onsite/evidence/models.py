"""S19: evidence files (photos, PDFs) attached to milestones and records, with their SHA-256."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field
from sqlalchemy import BigInteger, Column
from sqlmodel import Field as SQLField

from services.onsite.visits.models import OnVisit
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz

AttachedKind = Literal["visit", "task", "process_data", "milestone", "process_record", "communication",
                       "signature", "handover", "drawing_revision", "report"]


class EvidenceFile(OnVisit, table=True):
    """A stored file; its content is checked against `sha256` on every download."""

    __tablename__ = "evidence_file"

    attached_kind: str
    attached_id: UUID | None = SQLField(default=None, index=True)
    filename: str
    content_type: str
    size: int = SQLField(sa_column=Column(BigInteger, nullable=False))
    sha256: str
    storage_key: str
    important: bool = False
    description: str | None = None
    uploaded_by: str
    uploaded_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    confirmed_by_customer: str | None = None
    confirmed_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))


class EvidenceRead(RowRead):
    attached_kind: AttachedKind
    attached_id: UUID | None
    filename: str
    content_type: str
    size: int
    sha256: str
    important: bool
    description: str | None
    uploaded_by: str
    uploaded_at: datetime
    confirmed_by_customer: str | None
    confirmed_at: datetime | None


class EvidenceConfirmation(StrictBody):
    """S19: the customer confirms an important piece of evidence."""

    confirmed_by: NonBlank = Field(min_length=1, max_length=200)
