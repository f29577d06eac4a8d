"""S22-S24: items raised on site (referrals, escalated requests, internal disagreements) routed to a unit."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field
from sqlalchemy import Column, DateTime, String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.dispatch.routing.domain import RoutedStatus
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.events.dispatch import RoutedKind


class RoutedItem(SQLModel, table=True):
    """Tracked from the moment onsite raises it until the unit's answer went back to the case."""

    __tablename__ = "routed_item"

    id: UUID = SQLField(primary_key=True, description="The item id onsite gave it")
    case_id: UUID = SQLField(index=True)
    visit_id: UUID | None = None
    kind: str = SQLField(sa_column=Column(String(32), nullable=False))
    topic: str | None = None
    summary: str
    details: str = ""
    raised_by: str
    raised_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = SQLField(default=RoutedStatus.RAISED, sa_column=Column(String(16), nullable=False, index=True))
    unit: str | None = None
    assigned_by: str | None = None
    assigned_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    # S22-S24: a dispatcher or admin answering for the routed unit is recorded as such.
    answered_on_behalf: bool = False
    # S24: the mediation between the units, and its escalation to the department heads when unresolved.
    mediation: str | None = None
    mediated_by: str | None = None
    mediated_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    escalated_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    version: int = 1


class RouteItem(StrictBody):
    unit: NonBlank = Field(min_length=1, max_length=100, examples=["transformer-division"])


class AnswerItem(StrictBody):
    answer: NonBlank = Field(min_length=1, max_length=4000)


class MediateItem(StrictBody):
    """S24: what the mediation between the units found; unresolved, the item goes to the department heads."""

    mediation: NonBlank = Field(max_length=4000)
    resolved: bool


class RoutedItemRead(RowRead):
    case_id: UUID
    visit_id: UUID | None
    kind: RoutedKind
    topic: str | None
    summary: str
    details: str
    raised_by: str
    raised_at: datetime
    status: RoutedStatus
    unit: str | None
    assigned_by: str | None
    assigned_at: datetime | None
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    answered_on_behalf: bool = False
    mediation: str | None = None
    mediated_by: str | None = None
    mediated_at: datetime | None = None
    escalated_at: datetime | None = None
    version: int
