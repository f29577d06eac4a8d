"""Tables every service database has: the outbox and the processed-events record.

Both are declared once here and created by each service's first migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class OutboxMessage(SQLModel, table=True):
    """An event committed with the state change that produced it, waiting to be published.

    `seq` orders publication; `id` is the event id (sent as a header for de-duplication);
    `aggregate_id` (the case id) is the message key.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_unsent", "seq", postgresql_where=text("sent_at IS NULL")),
        Index("ix_outbox_aggregate", "aggregate_id", "seq"),
    )

    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    id: UUID = Field(unique=True, index=False)
    aggregate_type: str = Field(sa_column=Column(String(64), nullable=False, server_default="service_case"))
    aggregate_id: str = Field(sa_column=Column(String(64), nullable=False))
    event_type: str = Field(sa_column=Column(String(96), nullable=False))
    event_version: int = 1
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    attempts: int = 0
    last_error: str | None = None


class ProcessedEvent(SQLModel, table=True):
    """An event a consumer group has applied; written in the handler's own transaction."""

    __tablename__ = "processed_event"

    consumer_group: str = Field(sa_column=Column(String(64), primary_key=True))
    event_id: UUID = Field(primary_key=True)
    event_type: str = Field(sa_column=Column(String(96), nullable=False))
    processed_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


SHARED_TABLES = frozenset({"outbox_message", "processed_event", "idempotency_record",
                           "personal_data_access", "personal_data_erasure"})  # the last two: decision 0093

# Installed by each service's first migration: wake the relay when an outbox row commits.
NOTIFY_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('outbox_pending', '');
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
NOTIFY_TRIGGER_SQL = """
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox_message
FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
"""
