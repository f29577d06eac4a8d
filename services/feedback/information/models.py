"""Customer information (S32): the table and its API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID, uuid4

from pydantic import ConfigDict, Field
from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from shared.api.params import IsoDateTime
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz_column


class InfoStatus(StrEnum):
    ROUTED = "routed"
    ANSWERED = "answered"


InfoKind = Literal["opinion", "suggestion", "business_lead"]


class CustomerInformation(SQLModel, table=True):
    """S32: an opinion, suggestion or business lead, routed, answered and told to the customer."""

    __tablename__ = "customer_information"
    __table_args__ = (Index("ix_customer_information_open", "status", "department", "routed_at"),)

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(index=True)
    call_id: UUID | None = SQLField(default=None, foreign_key="follow_up_call.id")
    visit_id: UUID | None = None
    source: str = SQLField(sa_column=Column(String(16), nullable=False))
    kind: str = SQLField(sa_column=Column(String(32), nullable=False))
    text: str = SQLField(sa_column=Column(Text, nullable=False))
    customer_name: str = ""
    region: str = ""
    department: str = SQLField(sa_column=Column(String(128), nullable=False))
    status: str = SQLField(default=InfoStatus.ROUTED, sa_column=Column(String(16), nullable=False))
    routed_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    captured_by: str = SQLField(sa_column=Column(String(128), nullable=False))
    answer: str | None = SQLField(default=None, sa_column=Column(Text))
    answered_by: str | None = SQLField(default=None, sa_column=Column(String(128)))
    answered_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    notification_channel: str | None = SQLField(default=None, sa_column=Column(String(16)))
    notification_text: str | None = SQLField(default=None, sa_column=Column(Text))
    customer_notified_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    version: int = 1


class InformationCreate(StrictBody):
    """Captured on a follow-up call: routed at once by its kind (or to `department` when given)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"agent": "agent-017", "kind": "business_lead", "text": "客户计划明年扩建二期,需要两台主变 / plans phase 2 "
                                                               "next year, needs two main transformers"}]})
    agent: NonBlank | None = Field(default=None, min_length=1, max_length=128)
    kind: InfoKind
    text: NonBlank = Field(min_length=1, max_length=4000)
    department: NonBlank | None = Field(default=None, min_length=1, max_length=128,
                                   description="Override the routing rule (e.g. a named department)")


class CustomerNotification(StrictBody):
    channel: Literal["phone", "sms", "email", "letter", "visit"]
    notified_at: IsoDateTime
    text: NonBlank = Field(min_length=1, max_length=2000, description="What the customer was told")


class InformationAnswer(StrictBody):
    """The department's answer and the recorded notification of the customer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "answer": "Lead passed to East sales; quotation sent 2026-12-03",
        "customer_notification": {"channel": "phone", "notified_at": "2026-12-03T02:00:00Z",
                                  "text": "told the customer a quotation was sent"}}]})
    answer: NonBlank = Field(min_length=1, max_length=4000)
    customer_notification: CustomerNotification | None = Field(
        default=None, description="Required: S32 closes only when the customer was told the outcome")


class InformationRead(RowRead):
    case_id: UUID
    call_id: UUID | None
    visit_id: UUID | None
    source: Literal["call", "onsite"]
    kind: InfoKind
    text: str
    customer_name: str
    region: str
    department: str
    status: InfoStatus
    routed_at: datetime
    captured_by: str
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    notification_channel: str | None
    notification_text: str | None
    customer_notified_at: datetime | None
    version: int
