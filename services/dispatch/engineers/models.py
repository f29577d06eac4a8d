"""The engineers' roster: grade, skills, home region, certificates and availability calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, StrictBool, ValidationInfo, field_validator
from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField

from shared.api.concurrency import VersionedRead
from shared.api.params import IsoDate, IsoDateTime, period_end
from shared.api.shapes import StrictBody
from shared.api.text import NonBlank
from shared.db import Versioned


class Engineer(Versioned, table=True):
    """An engineer of the service department; `id` is their identity's subject (token `sub`)."""

    __tablename__ = "engineer"

    id: str = SQLField(sa_column=Column(String(64), primary_key=True))
    name: str
    grade: int
    home_region: str = SQLField(index=True)
    skills: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    certificates: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    unavailability: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    active: bool = True
    created_by: str


class Skill(StrictBody):
    equipment_type: NonBlank = Field(min_length=1, max_length=100)
    level: int = Field(ge=1, le=5, description="1 = basic ... 5 = expert")


class Certificate(StrictBody):
    """E.g. an HV live-work licence; valid up to and including `expires_on`."""

    type: NonBlank = Field(min_length=1, max_length=64, examples=["hv_live_work"])
    number: NonBlank = Field(min_length=1, max_length=64)
    expires_on: IsoDate


class Unavailability(StrictBody):
    """A period in the engineer's calendar when they cannot be assigned (leave, other work)."""

    start: IsoDateTime
    end: IsoDateTime
    reason: NonBlank = Field(min_length=1, max_length=200, examples=["leave"])

    @field_validator("end")
    @classmethod
    def _ordered(cls, value: datetime, info: ValidationInfo) -> datetime:
        return period_end(value, info.data.get("start"), "start")


class EngineerBase(StrictBody):
    name: NonBlank = Field(min_length=1, max_length=200)
    grade: int = Field(ge=1, le=5)
    home_region: NonBlank = Field(min_length=1, max_length=64)
    skills: list[Skill] = Field(default_factory=list, max_length=50)
    certificates: list[Certificate] = Field(default_factory=list, max_length=50)
    unavailability: list[Unavailability] = Field(default_factory=list, max_length=500)
    active: StrictBool = True


class EngineerCreate(EngineerBase):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$",
                    description="The engineer's identity subject")


class EngineerUpdate(EngineerBase):
    """A full replacement of the engineer's record (send the ETag as If-Match)."""


class EngineerRead(EngineerBase, VersionedRead):
    id: str
