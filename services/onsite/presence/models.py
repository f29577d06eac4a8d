"""S10 daily presence (sign-in/out with location) and S20 daily work logs."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, Date, UniqueConstraint
from sqlmodel import Field as SQLField

from services.onsite.reported_times import OccurredAt
from services.onsite.visits.models import OnVisit
from shared.api.params import IsoDate, IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz


class DailyPresence(OnVisit, table=True):
    """S10: one engineer's working day on a visit: sign-in, sign-out, and what was flagged."""

    __tablename__ = "daily_presence"
    __table_args__ = (UniqueConstraint("visit_id", "engineer_id", "day"),)

    engineer_id: str = SQLField(index=True)
    day: date = SQLField(sa_column=Column(Date, nullable=False))
    # the sign-in's time on the client (`at`), and when the server received it
    checked_in_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    in_recorded_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    # the location trace: cleared after LOCATION_TRACE_RETENTION_DAYS or on erasure (decision 0093)
    in_latitude: float | None = None
    in_longitude: float | None = None
    in_accuracy_m: float | None = None
    checked_out_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    out_recorded_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz()))
    out_latitude: float | None = None
    out_longitude: float | None = None
    out_accuracy_m: float | None = None
    sign_out_missed: bool = False
    log_missed: bool = False


class MissedSignIn(OnVisit, table=True):
    """S10: a working day of an open visit on which an engineer did not sign in, flagged once (and S20's
    missing log of that day, when none was sent)."""

    __tablename__ = "missed_sign_in"
    __table_args__ = (UniqueConstraint("visit_id", "engineer_id", "day"),)

    engineer_id: str
    day: date = SQLField(sa_column=Column(Date, nullable=False))
    log_missed: bool = False
    flagged_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class DailyLog(OnVisit, table=True):
    """S20: an engineer's daily work log, sent to the service department."""

    __tablename__ = "daily_log"
    __table_args__ = (UniqueConstraint("visit_id", "engineer_id", "day"),)

    engineer_id: str
    day: date = SQLField(sa_column=Column(Date, nullable=False))
    work_done: str
    progress: str
    problems: str
    submitted_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    occurred_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))  # written on the client


class Location(StrictBody):
    """Where the engineer is: WGS84 degrees (range-checked) and the fix's accuracy in metres."""

    at: IsoDateTime = Field(description="When the engineer signed in or out (the client's time of the act; "
                                        "the S10 day is this time's site day)")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class PresenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    engineer_id: str
    visit_id: UUID
    day: date
    checked_in_at: datetime
    in_recorded_at: datetime
    in_latitude: float | None = Field(description="Null once the location trace is cleared (retention, erasure)")
    in_longitude: float | None
    in_accuracy_m: float | None
    checked_out_at: datetime | None
    out_recorded_at: datetime | None = None
    out_latitude: float | None
    out_longitude: float | None
    sign_out_missed: bool
    log_missed: bool


class WhereaboutsRead(BaseModel):
    """S10: where an engineer is now (their last sign-in or sign-out)."""

    engineer_id: str
    visit_id: UUID
    site_name: str
    on_site: bool
    at: datetime
    latitude: float
    longitude: float
    accuracy_m: float | None


class DailyLogCreate(StrictBody):
    day: IsoDate
    work_done: NonBlank = Field(min_length=1, max_length=8000)
    progress: NonBlank = Field(min_length=1, max_length=4000)
    problems: str = Field(default="", max_length=8000)
    occurred_at: OccurredAt = None


class DailyLogRead(RowRead):
    engineer_id: str
    day: date
    work_done: str
    progress: str
    problems: str
    submitted_at: datetime
    occurred_at: datetime
