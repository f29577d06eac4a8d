"""The case record's conformance view: each step of the standard and the events that prove it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

StepStatus = Literal["done", "missing", "not_applicable", "in_progress"]


class Finding(BaseModel):
    """A compliance finding: reported by an event (a missed sign-out, calls out of order), or a gap the
    view found itself (a day on site without a sign-in, a milestone without evidence): then no event."""

    event_id: UUID | None = Field(default=None, description="The event reporting it; none for a gap")
    event_type: str | None = None
    at: datetime | None = None
    day: date | None = Field(default=None, description="The site's day a daily or periodic gap is about")
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
