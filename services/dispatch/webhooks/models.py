"""Outbound webhooks (decision 0083): subscriptions, the events queued for them, deliveries and their
attempts (the delivery log); and the API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, StrictBool, field_validator
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.dispatch.webhooks.domain import AttemptOutcome, DeliveryStatus
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz
from shared.events.registry import registry
from shared.messages import msg


class WebhookSubscription(SQLModel, table=True):
    """An integrator's endpoint and what it wants; the signing secrets are kept to sign (HMAC needs them)."""

    __tablename__ = "webhook_subscription"

    id: UUID = SQLField(primary_key=True)
    url: str = SQLField(sa_column=Column(String(2000), nullable=False))
    event_types: list[str] | None = SQLField(default=None, sa_column=Column(ARRAY(String(96)), nullable=True))
    region: str | None = SQLField(default=None, sa_column=Column(String(64), nullable=True))
    description: str = SQLField(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    enabled: bool = True
    disabled_reason: str | None = SQLField(default=None, sa_column=Column(String(500), nullable=True))
    disabled_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    secret: str = SQLField(sa_column=Column(String(128), nullable=False))
    previous_secret: str | None = SQLField(default=None, sa_column=Column(String(128), nullable=True))
    previous_secret_expires_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(),
                                                                                         nullable=True))
    failing_since: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    last_success_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    created_by: str
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    updated_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    version: int = 1


class WebhookEvent(SQLModel, table=True):
    """An event some subscription wants, kept once as the exact body every delivery of it sends."""

    __tablename__ = "webhook_event"

    event_id: UUID = SQLField(primary_key=True)
    case_id: str = SQLField(sa_column=Column(String(64), nullable=False))
    event_type: str = SQLField(sa_column=Column(String(96), nullable=False))
    body: str = SQLField(sa_column=Column(Text, nullable=False))
    recorded_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One event to one subscription, pending until delivered or dead-lettered; `seq` is the order in
    which dispatch recorded the events (a delivery waits for the earlier ones of its subscription and case)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_subscription_event"),
        Index("ix_webhook_delivery_pending_order", "subscription_id", "case_id", "seq",
              postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_delivery_pending_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_delivery_subscription_list", "subscription_id", "created_at", "id"),
    )

    id: UUID = SQLField(primary_key=True)
    seq: int | None = SQLField(default=None, sa_column=Column(BigInteger, Identity(always=False), nullable=False,
                                                              unique=True))
    subscription_id: UUID = SQLField(sa_column=Column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
                                                      nullable=False))
    event_id: UUID = SQLField(sa_column=Column(ForeignKey("webhook_event.event_id"), nullable=False, index=True))
    case_id: str = SQLField(sa_column=Column(String(64), nullable=False))
    event_type: str = SQLField(sa_column=Column(String(96), nullable=False))
    status: str = SQLField(default=DeliveryStatus.PENDING, sa_column=Column(String(16), nullable=False))
    attempts: int = SQLField(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    queued_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False),
                                   description="Start of the retry window: the arrival, or the last redrive")
    next_attempt_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    leased_until: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    last_attempt_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    last_status_code: int | None = None
    last_error: str | None = SQLField(default=None, sa_column=Column(String(500), nullable=True))
    delivered_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))
    dead_lettered_at: datetime | None = SQLField(default=None, sa_column=Column(timestamptz(), nullable=True))


class WebhookAttempt(SQLModel, table=True):
    """One request of a delivery: the delivery log of its subscription."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_subscription_time", "subscription_id", "attempted_at", "id"),)

    id: UUID = SQLField(primary_key=True)
    delivery_id: UUID = SQLField(sa_column=Column(ForeignKey("webhook_delivery.id", ondelete="CASCADE"),
                                                  nullable=False, index=True))
    subscription_id: UUID = SQLField(sa_column=Column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
                                                      nullable=False))
    event_id: UUID
    attempt: int
    attempted_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    status_code: int | None = None
    latency_ms: int
    error: str | None = SQLField(default=None, sa_column=Column(String(500), nullable=True))
    outcome: str = SQLField(sa_column=Column(String(16), nullable=False))


# --- API bodies -----------------------------------------------------------------------------------

def _known_event_types(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    known = {p.event_type for p in registry.all()}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(msg("unknown event types: {unknown} (see the AsyncAPI document)", unknown=', '.join(unknown)))
    if len(set(values)) != len(values):
        raise ValueError(msg("an event type is listed twice"))
    return values


Region = NonBlank


class SubscriptionCreate(StrictBody):
    """A new subscription; omit `event_types` (or send null) for every event type."""

    url: str = Field(min_length=1, max_length=2000, examples=["https://crm.example.com/hooks/fieldservice"],
                     description="HTTPS endpoint receiving the POSTs; private, loopback and link-local "
                                 "targets are refused")
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=200,
                                          examples=[["ServiceDispatched", "EngineerArrived"]],
                                          description="Event types to receive; null: all")
    region: Region | None = Field(default=None, max_length=64, description="Only events of cases of this region")
    description: str = Field(default="", max_length=500)

    _types = field_validator("event_types")(_known_event_types)


class SubscriptionUpdate(StrictBody):
    """Change what is given; `enabled: true` re-enables a subscription disabled for its failures."""

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=200)
    all_event_types: StrictBool | None = Field(default=None, description="true: every event type (clears "
                                                                         "`event_types`)")
    region: Region | None = Field(default=None, max_length=64)
    any_region: StrictBool | None = Field(default=None, description="true: cases of every region (clears `region`)")
    description: str | None = Field(default=None, max_length=500)
    enabled: StrictBool | None = None

    _types = field_validator("event_types")(_known_event_types)


class SecretRotation(StrictBody):
    grace_hours: float | None = Field(default=None, ge=0, le=720, description="How long the previous secret "
                                      "still signs (both signatures are sent); default WEBHOOK_SECRET_GRACE_HOURS")


class SubscriptionRead(RowRead):
    url: str
    event_types: list[str] | None = Field(description="null: every event type")
    region: str | None
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(description="While in the future, deliveries carry a "
                                                        "second signature made with the previous secret")
    failing_since: datetime | None
    last_success_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="The signing secret (`whsec_` + base64), shown only this once")


class SecretRotated(BaseModel):
    subscription_id: UUID
    secret: str = Field(description="The new signing secret, shown only this once")
    previous_secret_expires_at: datetime | None = Field(description="Until then the previous secret signs too")


class DeliveryRead(RowRead):
    subscription_id: UUID
    event_id: UUID = Field(description="Also the `webhook-id` header of every attempt")
    case_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    queued_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    dead_lettered_at: datetime | None


class AttemptRead(RowRead):
    delivery_id: UUID
    event_id: UUID
    attempt: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    outcome: AttemptOutcome


class RedriveSince(StrictBody):
    """Queue again the dead-lettered deliveries (and, if asked, the delivered ones) of events since a time."""

    since: AwareDatetime
    include_delivered: StrictBool = Field(default=False, description="Send again what was delivered too")


class Redriven(BaseModel):
    redriven: int = Field(description="Deliveries queued again")
