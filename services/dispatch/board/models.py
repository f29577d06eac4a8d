"""API shapes of the dispatcher's board (nothing is stored: the board is read from the roster and cases)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class BoardCertificate(BaseModel):
    type: str
    number: str
    valid_until: date = Field(description="Last day the certificate is valid")


class BoardBooking(BaseModel):
    case_id: UUID
    crm_reference: str
    case_status: str
    region: str
    planned_start: datetime
    planned_end: datetime
    is_project_manager: bool


class BoardLeave(BaseModel):
    start: datetime
    end: datetime
    reason: str


class BoardConflict(BaseModel):
    kind: Literal["double_booking", "booking_during_leave", "certificate_expired"]
    case_ids: list[UUID]
    detail: str


class BoardDay(BaseModel):
    day: date = Field(description="A calendar day in the site's time zone")
    bookings: list[BoardBooking]
    leave: list[BoardLeave]
    certificates_expiring: list[BoardCertificate] = Field(description="Certificates whose last valid day this is")
    conflicts: list[BoardConflict]


class BoardEngineer(BaseModel):
    engineer_id: str
    name: str
    grade: int
    home_region: str
    expiring_certificates: list[BoardCertificate] = Field(description="Certificates ending within the period")
    days: list[BoardDay]


class BoardUnstaffedCase(BaseModel):
    case_id: UUID
    crm_reference: str
    region: str
    status: str
    start: datetime = Field(description="Planned start, or the required arrival of a case without a team")
    end: datetime
    head_count: int = Field(description="S3: engineers the staffing policy requires")
    assigned: int
    missing: int
    reason: str


class BoardRead(BaseModel):
    """Engineers x site-local days over a period; `unstaffed_cases` on the first page only."""

    period_from: date
    period_to: date
    region: str | None
    engineers: list[BoardEngineer]
    unstaffed_cases: list[BoardUnstaffedCase]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next engineers")
