"""S7: rescheduling the arrival, with both notifications recorded."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.api.params import IsoDateTime
from shared.api.text import NonBlank
from shared.clock import utcnow


class ArrivalReschedule(BaseModel):
    """S7: the new arrival time and when the customer and the regional service centre were told."""

    model_config = ConfigDict(extra="forbid")
    new_arrival: IsoDateTime
    reason: NonBlank = Field(min_length=1, max_length=2000)
    customer_notified_at: IsoDateTime | None = Field(description="Required: when the customer was told")
    regional_centre_notified_at: IsoDateTime | None = Field(
        description="Required: when the regional service centre was told")

    @field_validator("new_arrival")
    @classmethod
    def _future(cls, value: datetime) -> datetime:
        if value < utcnow():
            raise ValueError("must not be in the past")
        return value
