"""The case record's conformance view: each step of the standard and the events that prove it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

StepStatus = Literal["done", "missing", "not_applicable", "in_progress"]


class Finding(BaseModel):
    event_id: UUID
    event_type: str
    at: datetime
    detail: str


class StepConformance(BaseModel):
    step: str
    title: str
    phase: str
    owner: str
    status: StepStatus
    when: datetime | None = Field(default=None, description="When the step was done (or last progressed)")
    who: list[str] = Field(default_factory=list, description="Actors of the proving events")
    evidence: list[UUID] = Field(default_factory=list, description="Ids of the events that prove it")
    findings: list[Finding] = Field(default_factory=list)


class ConformanceRead(BaseModel):
    case_id: UUID
    summary: dict[str, int]
    steps: list[StepConformance]
