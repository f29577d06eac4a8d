"""API shapes of suggested assignments (nothing is stored: a suggestion is applied through S3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.api.params import IsoDateTime, period_end
from shared.messages import msg


class PlannedWindow(BaseModel):
    """The planned window to staff: both ends or neither (then from the required arrival agreed at S2, for
    duration_days)."""

    model_config = ConfigDict(extra="forbid")
    planned_start: IsoDateTime | None = None
    planned_end: IsoDateTime | None = Field(default=None, validate_default=True)
    duration_days: int = Field(default=3, ge=1, le=60)

    @field_validator("planned_end")
    @classmethod
    def _window(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("planned_start")
        if (start is None) != (value is None):
            raise ValueError(msg("give both planned_start and planned_end, or neither"))
        return value if value is None else period_end(value, start, "planned_start")


class CaseSuggestionRequest(PlannedWindow):
    """The planned window to staff (default: from the required arrival agreed at S2, for duration_days)."""


class BatchSuggestionRequest(BaseModel):
    """Every acknowledged, unstaffed case whose required arrival falls in [arrival_from, arrival_to)."""

    model_config = ConfigDict(extra="forbid")
    arrival_from: IsoDateTime
    arrival_to: IsoDateTime
    duration_days: int = Field(default=3, ge=1, le=60)

    @field_validator("arrival_to")
    @classmethod
    def _period(cls, value: datetime, info: ValidationInfo) -> datetime:
        return period_end(value, info.data.get("arrival_from"), "arrival_from", not_past=True)


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
    solver: Literal["cp-sat", "highs", "greedy"]
    status: Literal["optimal", "feasible", "greedy"]
    objective: int = Field(description="Lower is better, never negative: unstaffed cases, travel, skill levels "
                           "short of the top, engineer-days beyond the fair share")
    bound: int = Field(default=0, description="Proven: no assignment under every S3 rule scores below it")
    gap: float = Field(default=0.0, description="(objective - bound) / (objective - the penalty of cases no team "
                       "can ever staff); 0 when proven optimal")
    wall_time_ms: int
    teams: list[SuggestedTeam]
    unstaffed: list[UnstaffedCase]
