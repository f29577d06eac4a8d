"""S6: the preparation checklist of a case (materials, travel, documents, parts, tools, certificates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool
from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField

from shared.api.shapes import StrictBody
from shared.db import Versioned


class PreparationChecklist(Versioned, table=True):
    __tablename__ = "preparation_checklist"

    case_id: UUID = SQLField(foreign_key="service_case.id", primary_key=True)
    items: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    completed_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    completed_by: str | None = None


class PreparationItem(BaseModel):
    key: str
    label: str
    source: str = Field(default="standard", description="standard (S6 category), plan (S4) or s2 (company-side)")
    done: bool = False
    note: str = ""
    ticked_by: str | None = None
    ticked_at: datetime | None = None


class TickItem(StrictBody):
    """Tick (or untick) one preparation item."""

    done: StrictBool
    note: str = Field(default="", max_length=2000)


class PreparationRead(BaseModel):
    case_id: UUID
    items: list[PreparationItem]
    complete: bool
    completed_at: datetime | None
    completed_by: str | None
    version: int
