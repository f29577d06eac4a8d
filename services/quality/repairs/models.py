"""Repair order tables and their API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Index
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import Versioned, timestamptz_column

RepairStatus = Literal["received", "diagnosed", "repaired", "tested", "shipped_back"]


class RepairOrder(Versioned, table=True):
    """S28: damaged equipment taken back for repair; the customer holds the receipt number."""

    __tablename__ = "repair_order"
    __table_args__ = (
        Index("ix_repair_order_receipt", "receipt_number", unique=True),
        Index("ix_repair_order_request", "repair_request_id", unique=True),
        Index("ix_repair_order_case", "case_id", "created_at"),
    )

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID
    visit_id: UUID | None = None
    repair_request_id: UUID | None = None
    issue_id: UUID | None = None
    receipt_number: str = SQLField(max_length=64)
    equipment: str
    serial_number: str | None = None
    fault: str
    customer_name: str
    status: str = SQLField(default="received", max_length=32)
    created_by: str


class RepairStatusEntry(SQLModel, table=True):
    """One status change of a repair order and the notification sent to the customer about it."""

    __tablename__ = "repair_status_entry"
    __table_args__ = (Index("ix_repair_status_order", "repair_order_id", "at"),)

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    repair_order_id: UUID = SQLField(foreign_key="repair_order.id")
    status: str = SQLField(max_length=32)
    note: str = ""
    customer_notification: str
    customer_notified_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    by: str


class RepairOrderCreate(StrictBody):
    case_id: UUID
    visit_id: UUID | None = None
    issue_id: UUID | None = None
    receipt_number: NonBlank | None = Field(default=None, min_length=1, max_length=64,
                                       description="The number on the customer's receipt; generated if absent")
    equipment: NonBlank = Field(min_length=1, max_length=200)
    serial_number: str | None = Field(default=None, max_length=100)
    fault: NonBlank = Field(min_length=1, max_length=4000)
    customer_name: NonBlank = Field(min_length=1, max_length=200)


class RepairStatusChange(StrictBody):
    status: RepairStatus
    note: str = Field(default="", max_length=2000)


class RepairStatusEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    status: RepairStatus
    note: str
    customer_notification: str
    customer_notified_at: datetime
    at: datetime
    by: str


class RepairOrderRead(RowRead):
    case_id: UUID
    visit_id: UUID | None
    repair_request_id: UUID | None
    issue_id: UUID | None
    receipt_number: str
    equipment: str
    serial_number: str | None
    fault: str
    customer_name: str
    status: RepairStatus
    version: int
    created_at: datetime
    updated_at: datetime
    history: list[RepairStatusEntryRead] = Field(default_factory=list)
