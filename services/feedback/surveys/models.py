"""Questionnaires, survey responses, one-time survey links and feedback records; their API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator
from pydantic.json_schema import JsonDict
from sqlalchemy import Column, Float, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from services.feedback.surveys.domain import QuestionType, questionnaire_problems
from shared.api.shapes import RowRead, StrictBody
from shared.api.text import NonBlank
from shared.db import timestamptz_column
from shared.messages import msg


class Questionnaire(SQLModel, table=True):
    """One version of a questionnaire; a change is a new version, answers keep the one they used."""

    __tablename__ = "questionnaire"

    questionnaire_id: str = SQLField(sa_column=Column(String(64), primary_key=True))
    version: int = SQLField(primary_key=True)
    title_zh: str = SQLField(sa_column=Column(Text, nullable=False))
    title_en: str = SQLField(sa_column=Column(Text, nullable=False))
    questions: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    created_by: str = SQLField(sa_column=Column(String(128), nullable=False))


class SurveyResponse(SQLModel, table=True):
    """S34: a customer's answers to one questionnaire version, by an agent or through a link."""

    __tablename__ = "survey_response"
    __table_args__ = (
        Index("uq_survey_response_call", "call_id", unique=True, postgresql_where="call_id IS NOT NULL"),
        Index("ix_survey_response_answered", "answered_at"),
    )

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(index=True)
    call_id: UUID | None = SQLField(default=None, foreign_key="follow_up_call.id")
    questionnaire_id: str = SQLField(sa_column=Column(String(64), nullable=False))
    questionnaire_version: int
    channel: str = SQLField(sa_column=Column(String(16), nullable=False))
    answers: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    csat: int | None = None
    nps: int | None = None
    answered_by: str = SQLField(sa_column=Column(String(128), nullable=False))
    answered_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))


class SurveyLink(SQLModel, table=True):
    """A one-time link for the customer to answer themself; only the token's hash is stored."""

    __tablename__ = "survey_link"

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    token_hash: str = SQLField(sa_column=Column(String(64), nullable=False, unique=True))
    call_id: UUID = SQLField(foreign_key="follow_up_call.id", index=True)
    case_id: UUID
    questionnaire_id: str = SQLField(sa_column=Column(String(64), nullable=False))
    questionnaire_version: int
    expires_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    used_at: datetime | None = SQLField(default=None, sa_column=timestamptz_column(nullable=True))
    created_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))
    created_by: str = SQLField(sa_column=Column(String(128), nullable=False))


class FeedbackRecord(SQLModel, table=True):
    """S30 / S31: the receipt rating and training evaluations, kept as feedback of their kind."""

    __tablename__ = "feedback_record"
    __table_args__ = (UniqueConstraint("kind", "source_key", name="uq_feedback_record_source"),)

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    case_id: UUID = SQLField(index=True)
    kind: str = SQLField(sa_column=Column(String(32), nullable=False))
    source_key: str = SQLField(sa_column=Column(String(128), nullable=False))
    score: float | None = SQLField(default=None, sa_column=Column(Float))
    details: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))
    region: str = ""
    equipment_type: str = ""
    engineer_ids: list[str] = SQLField(sa_column=Column(JSONB, nullable=False))
    recorded_at: datetime = SQLField(sa_column=timestamptz_column(nullable=False))


# --- API shapes ---------------------------------------------------------------------------------


class ChoiceOption(StrictBody):
    value: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    text_zh: NonBlank = Field(min_length=1, max_length=200)
    text_en: NonBlank = Field(min_length=1, max_length=200)
    complaint: StrictBool = Field(default=False, description="Choosing it raises a complaint")


class Question(StrictBody):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    type: QuestionType
    text_zh: NonBlank = Field(min_length=1, max_length=500)
    text_en: NonBlank = Field(min_length=1, max_length=500)
    required: StrictBool = True
    choices: list[ChoiceOption] = Field(default_factory=list, max_length=20)
    measure: Literal["csat", "nps"] | None = Field(default=None, description="The question that gives CSAT or NPS")


QUESTIONNAIRE_EXAMPLE: JsonDict = {
    "title_zh": "安装调试服务回访", "title_en": "Installation and commissioning follow-up",
    "questions": [
        {"id": "overall", "type": "scale_1_5", "text_zh": "您对本次服务的总体满意度？",  # noqa: RUF001
         "text_en": "How satisfied are you with the service overall?", "measure": "csat"},
        {"id": "recommend", "type": "nps_0_10", "text_zh": "您向同行推荐我们的可能性有多大？",  # noqa: RUF001
         "text_en": "How likely are you to recommend us to a colleague?", "measure": "nps"},
        {"id": "comment", "type": "free_text", "text_zh": "其他意见或建议", "text_en": "Other comments",
         "required": False},
    ],
}


class QuestionnaireCreate(StrictBody):
    """A new version of a questionnaire (the version number is the next one)."""

    model_config = ConfigDict(json_schema_extra={"examples": [QUESTIONNAIRE_EXAMPLE]})
    title_zh: NonBlank = Field(min_length=1, max_length=200)
    title_en: NonBlank = Field(min_length=1, max_length=200)
    questions: list[Question] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _well_formed(self) -> QuestionnaireCreate:
        problems = questionnaire_problems([q.model_dump() for q in self.questions])
        if problems:
            raise ValueError("; ".join(problems))
        return self


class QuestionnaireRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    questionnaire_id: str
    version: int
    title_zh: str
    title_en: str
    questions: list[Question]
    created_at: datetime


class Answer(StrictBody):
    question_id: NonBlank = Field(min_length=1, max_length=64)
    value: StrictInt | StrictStr = Field(description="1-5, 0-10, a choice value or a text (max 2000)")
    complaint: StrictBool = Field(default=False, description="The agent marks this answer as a complaint")

    @model_validator(mode="after")
    def _bounded(self) -> Answer:
        if isinstance(self.value, str) and len(self.value) > 2000:
            raise ValueError(msg("value is longer than 2000 characters"))
        return self


ANSWERS_EXAMPLE: JsonDict = {
    "agent": "agent-017", "questionnaire_id": "follow-up", "questionnaire_version": 1, "answers": [
        {"question_id": "overall", "value": 4}, {"question_id": "recommend", "value": 9},
        {"question_id": "engineer", "value": 5}, {"question_id": "on_time", "value": "yes"},
        {"question_id": "comment", "value": "清洁做得很好 / site left clean"}]}


class SurveyAnswersCreate(StrictBody):
    """Answers recorded by the agent during the call (or by the customer through a link, without `agent`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [ANSWERS_EXAMPLE]})
    agent: NonBlank | None = Field(default=None, min_length=1, max_length=128,
                              description="The agent the call-centre tool acts for")
    questionnaire_id: NonBlank | None = Field(default=None, min_length=1, max_length=64,
                                         description="Default: the service's follow-up questionnaire")
    questionnaire_version: int | None = Field(default=None, ge=1, le=10_000, description="Default: the latest")
    answers: list[Answer] = Field(min_length=1, max_length=50)


class LinkAnswersCreate(StrictBody):
    """The customer's answers through a one-time link (the link fixes the questionnaire version)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"answers": ANSWERS_EXAMPLE["answers"]}]})
    answers: list[Answer] = Field(min_length=1, max_length=50)


class SurveyResponseRead(RowRead):
    case_id: UUID
    call_id: UUID | None
    questionnaire_id: str
    questionnaire_version: int
    channel: Literal["call", "link"]
    answers: list[dict[str, Any]]
    csat: int | None
    nps: int | None
    answered_by: str
    answered_at: datetime
    complaint_ids: list[UUID] = Field(default_factory=list, description="Complaints these answers raised")


class SurveyLinkCreate(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"agent": "agent-017"}]})
    agent: NonBlank | None = Field(default=None, min_length=1, max_length=128)
    send_to_customer: StrictBool = Field(default=False, description="S34: the system sends the link to the case's "
                                         "customer contact (e-mail or SMS, in their language and contact window)")


class SurveyLinkRead(BaseModel):
    link_id: UUID
    call_id: UUID
    token: str = Field(description="Shown once; the customer opens `url`")
    url: str
    expires_at: datetime
    questionnaire_id: str
    questionnaire_version: int


class FeedbackRecordRead(RowRead):
    case_id: UUID
    kind: Literal["receipt_rating", "training_evaluation"]
    score: float | None
    details: dict[str, Any]
    region: str
    equipment_type: str
    engineer_ids: list[str]
    recorded_at: datetime
