"""Notifications to people (decision 0090): each message (rendered, with its status and attempts), the
staff directory they are addressed from, and the opt-outs; the API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field, StrictBool, field_validator
from sqlalchemy import Column, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.dispatch.notifications.domain import Audience, Channel, Language, NotificationStatus, channel_of
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz
from shared.messages import msg


class Notification(SQLModel, table=True):
    """One message to one recipient about one event; never two for the same event, audience and address."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("event_id", "audience", "address", name="uq_notification_event_recipient"),
        Index("ix_notification_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_notification_case_list", "case_id", "created_at", "id"),
        Index("ix_notification_list", "created_at", "id"),
    )

    id: UUID = SQLField(primary_key=True)
    event_id: UUID
    event_type: str = SQLField(sa_column=Column(String(96), nullable=False))
    case_id: str = SQLField(sa_column=Column(String(64), nullable=False))
    region: str | None = SQLField(default=None, sa_column=Column(String(64), nullable=True))
    audience: str = SQLField(sa_column=Column(String(32), nullable=False))
    recipient_name: str | None = SQLField(default=None, sa_column=Column(String(200), nullable=True))
    address: str = SQLField(sa_column=Column(String(2000), nullable=False))
    channel: str = SQLField(sa_column=Column(String(16), nullable=False))
    language: str = SQLField(sa_column=Column(String(8), nullable=False))
    template: str = SQLField(sa_column=Column(String(64), nullable=False))
    subject: str = SQLField(sa_column=Column(String(500), nullable=False))
    body: str = SQLField(sa_column=Column(Text, nullable=False))
    status: str = SQLField(default=NotificationStatus.QUEUED, sa_column=Column(String(16), nullable=False))
    attempts: int = SQLField(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_error: str | None = SQLField(default=None, sa_column=Column(String(500), nullable=True))
    secrets: dict[str, str] | None = SQLField(
        default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True),
        description="An event's secret fields (S34's survey link) the body names by marker: kept only while queued")
    gate_id: UUID | None = SQLField(default=None, index=True,
                                    description="The S7 reschedule waiting for this message (`inform: true`)")
    time_zone: str | None = SQLField(default=None, sa_column=Column(String(64), nullable=True),
                                     description="The site's zone of a customer's contact window; null: any time")
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    next_attempt_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    leased_until: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    last_attempt_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    sent_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))


class NotificationRecipient(SQLModel, table=True):
    """The staff directory: who of a role (in a region, or every region) is told, at which address."""

    __tablename__ = "notification_recipient"
    __table_args__ = (
        UniqueConstraint("role", "address", "region", name="uq_notification_recipient"),
        Index("ix_notification_recipient_role", "role", "region"),
        Index("ix_notification_recipient_list", "created_at", "id"),
    )

    id: UUID = SQLField(primary_key=True)
    role: str = SQLField(sa_column=Column(String(32), nullable=False))
    region: str | None = SQLField(default=None, sa_column=Column(String(64), nullable=True))
    name: str = SQLField(sa_column=Column(String(200), nullable=False))
    address: str = SQLField(sa_column=Column(String(2000), nullable=False))
    channel: str = SQLField(sa_column=Column(String(16), nullable=False))
    language: str | None = SQLField(default=None, sa_column=Column(String(8), nullable=True))
    active: bool = True
    created_by: str
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class NotificationOptOut(SQLModel, table=True):
    """An address that asked not to be told anything any more (recorded by a dispatcher on the customer's word)."""

    __tablename__ = "notification_opt_out"
    __table_args__ = (Index("ix_notification_opt_out_list", "created_at", "id"),)

    id: UUID = SQLField(primary_key=True)
    address: str = SQLField(sa_column=Column(String(2000), nullable=False, unique=True))
    reason: str = SQLField(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    case_id: UUID | None = None
    recorded_by: str
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


# --- API bodies -----------------------------------------------------------------------------------

def _reachable(value: str) -> str:
    channel_of(value)  # raises ValueError (a 422 naming the field) for what no channel reaches
    return value.strip()


class NotificationRead(RowRead):
    event_id: UUID = Field(description="The event the message tells of (one message per event and recipient)")
    event_type: str
    case_id: str
    region: str | None
    audience: Audience
    recipient_name: str | None
    address: str
    channel: Channel
    language: Language
    template: str
    subject: str
    body: str
    status: NotificationStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime = Field(description="While queued: when it is sent at the earliest (a retry, or "
                                                  "the opening of the customer's contact window)")
    last_attempt_at: datetime | None
    sent_at: datetime | None = Field(description="When the message was handed to its channel: the real 'informed "
                                                 "at'")


class RecipientCreate(StrictBody):
    """A staff member (or a team's mailbox or group chat) told of the events of their role."""

    role: Audience = Field(description="Which messages: dispatcher, service_department, regional_centre, "
                                       "department_head (customers come from their case)")
    region: NonBlank | None = Field(default=None, max_length=64, description="Only cases of this region; null: all")
    name: NonBlank = Field(min_length=1, max_length=200)
    address: NonBlank = Field(min_length=3, max_length=2000, examples=["east-dispatch@example.com", "+8613800000000",
                                                                       "wecombot://BOTKEY"],
                              description="E-mail address, phone number (SMS) or a WeCom / DingTalk / Feishu "
                                          "apprise URL; the address decides the channel")
    language: Language | None = Field(default=None, description="null: NOTIFY_DEFAULT_LANGUAGE")

    _address = field_validator("address")(_reachable)

    @field_validator("role")
    @classmethod
    def _staff(cls, value: Audience) -> Audience:
        if value == Audience.CUSTOMER:
            raise ValueError(msg("customers are addressed from their case's contact, not the directory"))
        return value


class RecipientUpdate(StrictBody):
    name: NonBlank | None = Field(default=None, max_length=200)
    address: NonBlank | None = Field(default=None, min_length=3, max_length=2000)
    language: Language | None = None
    active: StrictBool | None = None

    _address = field_validator("address")(lambda v: None if v is None else _reachable(v))


class RecipientRead(RowRead):
    role: Audience
    region: str | None
    name: str
    address: str
    channel: Channel
    language: Language | None
    active: bool
    created_by: str
    created_at: datetime


class OptOutCreate(StrictBody):
    """The customer asked not to be contacted any more at this address (or any address of the case's contact)."""

    address: NonBlank = Field(min_length=3, max_length=2000, examples=["zhang.min@example.cn"])
    reason: str = Field(default="", max_length=500)
    case_id: UUID | None = Field(default=None, description="The case the customer said it on (for the record)")

    _address = field_validator("address")(_reachable)


class OptOutRead(RowRead):
    address: str
    reason: str
    case_id: UUID | None
    recorded_by: str
    created_at: datetime
