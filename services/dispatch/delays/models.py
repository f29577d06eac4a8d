"""S7: rescheduling the arrival, with both notifications recorded, or sent by the system (decision 0090)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field, StrictBool, field_validator, model_validator
from sqlalchemy import Column, String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.api.params import IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.clock import utcnow
from shared.db import timestamptz
from shared.messages import msg


class ArrivalReschedule(StrictBody):
    """S7: the new arrival time and when the customer and the regional service centre were told, or
    `inform: true` to have the system tell them (the arrival moves once both messages are sent)."""

    new_arrival: IsoDateTime
    reason: NonBlank = Field(min_length=1, max_length=2000)
    customer_notified_at: IsoDateTime | None = Field(
        default=None, description="Required unless `inform`: when the customer was told")
    regional_centre_notified_at: IsoDateTime | None = Field(
        default=None, description="Required unless `inform`: when the regional service centre was told")
    inform: StrictBool = Field(
        default=False, description="The system tells the customer (their case contact, in their contact window) "
        "and the region's regional centre (the notification directory); the answer is 202 and the arrival moves "
        "when both messages are sent, their sent times being the notified-at times")

    @field_validator("new_arrival")
    @classmethod
    def _future(cls, value: datetime) -> datetime:
        if value < utcnow():
            raise ValueError(msg("must not be in the past"))
        return value

    @model_validator(mode="after")
    def _either(self) -> ArrivalReschedule:
        if self.inform and (self.customer_notified_at is not None or self.regional_centre_notified_at is not None):
            raise ValueError(msg("with `inform` the system records when they were told: omit the notified-at times"))
        return self


class RescheduleStatus(StrEnum):
    INFORMING = "informing"  # the messages are queued or being retried
    APPLIED = "applied"  # both were sent and the arrival moved (ArrivalRescheduled)
    REFUSED = "refused"  # a message failed, or the moved window no longer passes S3: nothing moved


class ArrivalRescheduleRequest(SQLModel, table=True):
    """An S7 reschedule waiting for the system's messages to the customer and the regional centre."""

    __tablename__ = "arrival_reschedule_request"

    id: UUID = SQLField(primary_key=True)
    case_id: UUID = SQLField(index=True)
    new_arrival: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    reason: str = SQLField(sa_column=Column(String(2000), nullable=False))
    status: str = SQLField(default=RescheduleStatus.INFORMING, sa_column=Column(String(16), nullable=False))
    requested_by: str
    requested_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    customer_notified_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    regional_centre_notified_at: datetime | None = SQLField(default=None,
                                                            sa_column=Column(timestamptz(), nullable=True))
    settled_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    refused_reason: str | None = SQLField(default=None, sa_column=Column(String(2000), nullable=True))


class ArrivalRescheduleRequestRead(RowRead):
    case_id: UUID
    new_arrival: datetime
    reason: str
    status: RescheduleStatus
    requested_by: str
    requested_at: datetime
    customer_notified_at: datetime | None = Field(description="When the system's message to the customer was sent")
    regional_centre_notified_at: datetime | None = Field(description="When the first message to the regional "
                                                                     "centre was sent")
    settled_at: datetime | None
    refused_reason: str | None
    notification_ids: list[UUID] = Field(default_factory=list, description="The messages (GET /notifications)")
