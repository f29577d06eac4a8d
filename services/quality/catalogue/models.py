"""Failure-mode catalogue table and its API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlmodel import Field as SQLField

from shared.api.shapes import StrictBody
from shared.api.text import NonBlank
from shared.db import Versioned


class FailureMode(Versioned, table=True):
    """One failure mode issues may be classified with (retired ones stay for old issues)."""

    __tablename__ = "failure_mode"

    code: str = SQLField(primary_key=True, max_length=100)
    name: str = SQLField(max_length=200)
    description: str = SQLField(default="", max_length=2000)
    active: bool = True
    created_by: str


class FailureModeCreate(StrictBody):
    code: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: NonBlank = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class FailureModeUpdate(StrictBody):
    name: NonBlank | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    active: StrictBool | None = None


class FailureModeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    description: str
    active: bool
    version: int
    updated_at: datetime
