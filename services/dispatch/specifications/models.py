"""S5: versioned specification templates and the packs instantiated from them for a case."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator, model_validator
from sqlalchemy import Column, DateTime, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.dispatch.cases.models import Level
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.events.dispatch import CheckItemKind
from shared.messages import msg

SheetKind = Literal["process_document", "flow_card", "check_sheet"]


class SpecificationTemplate(SQLModel, table=True):
    """One version of a process document, flow card or check sheet template (versions never change)."""

    __tablename__ = "specification_template"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    template_id: str = SQLField(sa_column=Column(String(64), nullable=False, index=True))
    version: int
    kind: str = SQLField(sa_column=Column(String(32), nullable=False))
    title: str
    equipment_type: str = SQLField(index=True)
    difficulty: str | None = None
    items: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    revision_note: str = ""
    issue_id: UUID | None = None
    created_by: str
    created_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))


class SpecificationPack(SQLModel, table=True):
    """S5: the documents and check sheets of one case, copied from the template versions of the day."""

    __tablename__ = "specification_pack"

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(foreign_key="service_case.id", index=True)
    sheets: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    templates: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    superseded_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True)))
    created_by: str
    created_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))


class CheckSheetItemIn(StrictBody):
    """What the engineer must record: a value (unit, limits), a yes/no, a photo or a witness."""

    item_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    text: NonBlank = Field(min_length=1, max_length=1000)
    kind: CheckItemKind
    unit: NonBlank | None = Field(default=None, min_length=1, max_length=32, validate_default=True)
    lower_limit: float | None = None
    upper_limit: float | None = None
    requires_witness: StrictBool = False
    requires_photo: StrictBool = False
    live_hv: StrictBool = False
    primary_test: StrictBool = False

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("kind") == "value" and value is None:
            raise ValueError(msg("a value item needs a unit"))
        return value

    @field_validator("lower_limit", "upper_limit")
    @classmethod
    def _limits(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("kind") != "value":
            raise ValueError(msg("only value items have limits"))
        lower = info.data.get("lower_limit")
        if info.field_name == "upper_limit" and value is not None and lower is not None and lower > value:
            raise ValueError(msg("must not be below lower_limit"))
        return value

    @model_validator(mode="after")
    def _flags(self) -> CheckSheetItemIn:
        if self.kind == "witness":
            self.requires_witness = True
        if self.kind == "photo":
            self.requires_photo = True
        return self


class TemplateContent(StrictBody):
    kind: SheetKind
    title: NonBlank = Field(min_length=1, max_length=200)
    equipment_type: NonBlank = Field(min_length=1, max_length=100)
    difficulty: Level | None = Field(default=None, description="None: for every difficulty")
    items: list[CheckSheetItemIn] = Field(default_factory=list, max_length=500)
    revision_note: str = Field(default="", max_length=2000)

    @field_validator("items")
    @classmethod
    def _unique_items(cls, value: list[CheckSheetItemIn]) -> list[CheckSheetItemIn]:
        ids = [i.item_id for i in value]
        if len(ids) != len(set(ids)):
            raise ValueError(msg("item_id must be unique within a template"))
        return value


class TemplateCreate(TemplateContent):
    template_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    template_id: str
    version: int
    kind: SheetKind
    title: str
    equipment_type: str
    difficulty: str | None
    items: list[CheckSheetItemIn]
    revision_note: str
    issue_id: UUID | None
    created_by: str
    created_at: datetime


class PackCreate(StrictBody):
    """S5: which templates to instantiate (default: the newest of every template for the case's
    equipment type and difficulty)."""

    template_ids: list[str] | None = Field(default=None, min_length=1, max_length=50)


class PackRead(RowRead):
    case_id: UUID
    sheets: list[dict[str, Any]]
    templates: list[str]
    created_by: str
    created_at: datetime
