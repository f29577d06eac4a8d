"""API shapes of replanning (nothing is stored: a repair is applied through the S3 and S7 gates)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool, model_validator

from services.dispatch.staffing.models import TeamChoice
from services.dispatch.suggestions.models import PlannedWindow, SuggestedMember
from shared.api.params import IsoDateTime, period_end
from shared.api.shapes import StrictBody
from shared.api.text import NonBlank
from shared.clock import utcnow
from shared.messages import msg


class EngineerReplanning(StrictBody):
    """Repair the plan after the engineer's calendar gained leave (or they left the roster)."""

    since: IsoDateTime | None = Field(default=None, description="Bookings ending before this are left alone "
                                                                "(default: now)")
    max_swaps: int = Field(default=2, ge=0, le=10, description="At most this many other cases change their team")
    max_shift_days: int = Field(default=14, ge=0, le=60,
                                description="A case may keep its team and move its arrival (S7) by up to this many "
                                            "days, when that changes fewer assignments")


class UrgentFit(PlannedWindow):
    """Fit an unstaffed case into the plan with the fewest moves (default window: the required arrival
    agreed at S2, for duration_days)."""

    max_swaps: int = Field(default=2, ge=0, le=10)


class AffectedCase(BaseModel):
    case_id: UUID
    crm_reference: str
    status: str
    planned_start: datetime
    planned_end: datetime
    team: list[str]


class RepairChange(BaseModel):
    """One case of the repair: a new team in its window (`team`, applied by S3) or its team at a new
    arrival (`arrival`, applied by S7: the customer and the regional centre are told)."""

    case_id: UUID
    case_version: int = Field(description="The case's version the repair was computed on (a later change: 412)")
    kind: Literal["team", "arrival"]
    before: list[str]
    team: list[SuggestedMember]
    planned_start: datetime
    planned_end: datetime
    previous_start: datetime
    changed_assignments: int
    cost_change: int = Field(description="Travel and skill of the new team minus the old (lower is better)")


class UnrepairedCase(BaseModel):
    case_id: UUID
    reason: str


class RepairRead(BaseModel):
    status: Literal["optimal", "feasible", "none"]
    affected: list[AffectedCase]
    changes: list[RepairChange]
    unrepaired: list[UnrepairedCase]
    changed_assignments: int = Field(description="New members plus moved bookings (a moved arrival counts one more)")
    other_cases_changed: int = Field(description="Cases changed besides the affected (or urgent) ones: the swaps")
    cost_change: int
    wall_time_ms: int
    neighbourhood: dict[str, int] = Field(description="The freed part of the plan: targets, swap sources, variables")


class RepairChangeWrite(StrictBody):
    """A change of a suggested repair, as suggested."""

    case_id: UUID
    case_version: int = Field(ge=0)
    kind: Literal["team", "arrival"]
    engineers: list[TeamChoice] = Field(default_factory=list, max_length=50)
    planned_start: IsoDateTime
    planned_end: IsoDateTime
    customer_notified_at: IsoDateTime | None = Field(
        default=None, description="`arrival` without `inform`: when the customer was told")
    regional_centre_notified_at: IsoDateTime | None = Field(
        default=None, description="`arrival` without `inform`: when the regional service centre was told")

    @model_validator(mode="after")
    def _complete(self) -> RepairChangeWrite:
        period_end(self.planned_end, self.planned_start, "planned_start", not_past=True)
        if self.kind == "arrival" and self.planned_start < utcnow():  # S7 moves an arrival into the future only
            raise ValueError(msg("must not be in the past"))
        if self.kind == "team" and not self.engineers:
            raise ValueError(msg("a team change names the engineers"))
        return self


class RepairApplication(StrictBody):
    """Apply a suggested repair: every change passes the S3 gate again, a moved arrival S7's gate too."""

    reason: NonBlank = Field(min_length=1, max_length=2000)
    changes: list[RepairChangeWrite] = Field(min_length=1, max_length=50)
    inform: StrictBool = Field(default=False, description="Moved arrivals: the system tells the customer and the "
                                                          "regional centre (decision 0090)")


class AppliedChange(BaseModel):
    case_id: UUID
    kind: Literal["team", "arrival"]
    status: Literal["applied", "informing"]
    reschedule_request_id: UUID | None = None


class RepairApplied(BaseModel):
    changes: list[AppliedChange]


class ArrivalWindow(BaseModel):
    planned_start: datetime
    planned_end: datetime
    team: list[SuggestedMember]
    cost: int = Field(description="Travel and skill of the cheapest free team (lower is better)")
    qualified_free: int = Field(description="Qualified engineers free in the window")


class ArrivalWindows(BaseModel):
    case_id: UUID
    windows: list[ArrivalWindow]
