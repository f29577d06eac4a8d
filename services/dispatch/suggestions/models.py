"""API shapes of suggested assignments (nothing is stored: a suggestion is applied through S3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class CaseSuggestionRequest(BaseModel):
    """The planned window to staff (default: from the required arrival agreed at S2, for duration_days)."""

    model_config = ConfigDict(extra="forbid")
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    duration_days: int = Field(default=3, ge=1, le=60)

    @model_validator(mode="after")
    def _window(self) -> CaseSuggestionRequest:
        if (self.planned_start is None) != (self.planned_end is None):
            raise ValueError("planned_end: give both planned_start and planned_end, or neither")
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            raise ValueError("planned_end: must be after planned_start")
        return self


class BatchSuggestionRequest(BaseModel):
    """Every acknowledged, unstaffed case whose required arrival falls in [arrival_from, arrival_to)."""

    model_config = ConfigDict(extra="forbid")
    arrival_from: AwareDatetime
    arrival_to: AwareDatetime
    duration_days: int = Field(default=3, ge=1, le=60)

    @model_validator(mode="after")
    def _period(self) -> BatchSuggestionRequest:
        if self.arrival_to <= self.arrival_from:
            raise ValueError("arrival_to: must be after arrival_from")
        if self.arrival_to < datetime.now(UTC):
            raise ValueError("arrival_to: must not be in the past")
        return self


class SuggestedMember(BaseModel):
    engineer_id: str
    name: str
    grade: int
    home_region: str
    is_project_manager: bool


class SuggestedTeam(BaseModel):
    case_id: UUID
    planned_start: datetime
    planned_end: datetime
    team: list[SuggestedMember]


class UnstaffedCase(BaseModel):
    case_id: UUID
    reason: str


class SuggestionRead(BaseModel):
    solver: Literal["cp-sat", "greedy"]
    status: Literal["optimal", "feasible", "greedy"]
    objective: int = Field(description="Lower is better: unstaffed cases, travel, workload balance, skill")
    wall_time_ms: int
    teams: list[SuggestedTeam]
    unstaffed: list[UnstaffedCase]
