"""SLA target table and its API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.api.shapes import StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz
from shared.events.quality import Severity


class SlaTarget(SQLModel, table=True):
    """Response and resolution targets of one severity (snapshot onto each issue when it is logged)."""

    __tablename__ = "sla_target"

    severity: str = SQLField(primary_key=True, max_length=16)
    response_minutes: int
    resolution_minutes: int
    warning_percent: int = 80
    version: int = 1
    updated_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    updated_by: str


class SlaTargetUpdate(StrictBody):
    """New targets: response = until escalated or fixed on site; resolution = until closed."""

    response_minutes: int = Field(ge=1, le=60 * 24 * 90)
    resolution_minutes: int = Field(ge=1, le=60 * 24 * 365)
    warning_percent: int = Field(default=80, ge=1, le=99,
                                 description="Warn when this share of the target has elapsed")


class SlaTargetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    severity: Severity
    response_minutes: int
    resolution_minutes: int
    warning_percent: int
    version: int
    updated_at: datetime
    updated_by: str


class SlaPause(StrictBody):
    """Pause the clocks while waiting for the customer."""

    reason: NonBlank = Field(min_length=1, max_length=2000)
