"""The change log behind the changes feed, and the feed's API shapes (decision 0091)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Column, Index, Sequence, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.db import timestamptz

# Numbers are taken under the change log's commit lock, so they follow commit order (decision 0091).
CHANGE_SEQ = Sequence("visit_change_seq")


class VisitChange(SQLModel, table=True):
    """One change on a visit (an onsite event, or a change dispatch or quality made to it), numbered in
    commit order."""

    __tablename__ = "visit_change"
    __table_args__ = (Index("ix_visit_change_visit_seq", "visit_id", "seq"),)

    seq: int | None = SQLField(default=None, sa_column=Column(
        BigInteger, CHANGE_SEQ, primary_key=True, server_default=CHANGE_SEQ.next_value()))
    visit_id: UUID
    what: str = SQLField(sa_column=Column(String(96), nullable=False))
    entity_kind: str = SQLField(sa_column=Column(String(64), nullable=False))
    entity_id: str = SQLField(sa_column=Column(String(200), nullable=False))
    actor: str = SQLField(sa_column=Column(String(200), nullable=False))
    event_id: UUID | None = None
    data: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))
    recorded_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class ChangeRead(BaseModel):
    """A change another person (or the office) made, for a client that was offline."""

    model_config = ConfigDict(from_attributes=True)
    visit_id: UUID
    what: str = Field(description="What happened: the event type (e.g. `EngineerCheckedIn`, `TaskStarted`)")
    entity_kind: str = Field(description="The kind of record changed (`task`, `presence`, `visit`, ...)")
    entity_id: str = Field(description="The id of the record changed (within its kind)")
    actor: str = Field(description="Who made the change (`system:...` for the service's own checks)")
    recorded_at: datetime = Field(description="When the server recorded the change")
    event_id: UUID | None = Field(description="The id of the event published for it, if any")
    data: dict[str, Any] = Field(description="The new state as the event carries it")
    link: str = Field(description="Where to read the record (path of its resource or collection)")


class ChangesPage(BaseModel):
    """Changes after `since`, oldest first (in commit order)."""

    items: list[ChangeRead]
    next_cursor: str | None = Field(
        description="More changes are waiting: pass it as `since` for the next page (null on the last page)")
    cursor: str = Field(
        description="Where this answer ends: store it and pass it as `since` on the next sync")
