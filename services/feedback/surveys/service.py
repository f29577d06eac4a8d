"""Survey operations: questionnaire versions, answers by call or one-time link, S30/S31 feedback."""

from __future__ import annotations

import hashlib
import secrets
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.calls import service as calls
from services.feedback.calls.models import FollowUpCall
from services.feedback.complaints import service as complaints
from services.feedback.complaints.models import Complaint
from services.feedback.events import emit
from services.feedback.surveys import domain
from services.feedback.surveys.models import (
    FeedbackRecord,
    Questionnaire,
    QuestionnaireCreate,
    SurveyLink,
    SurveyResponse,
)
from shared.api.pagination import keyset_page, where_given
from shared.api.problems import Conflict, GateRefused, NotFound, Problem
from shared.api.resources import get_or_404
from shared.events.feedback import FeedbackRecorded, SurveyAnswered, SurveyLinkIssued
from shared.events.onsite import ServiceCompleted, TrainingDelivered
from shared.messages import msg

SERVICE_ACTOR = "service:feedback"


class LinkGone(Problem):
    status, slug, title = 410, "link-gone", "Link no longer valid"


@dataclass(frozen=True)
class SurveyPolicy:
    """Which questionnaire calls use, how long links live, which scores are complaints."""

    questionnaire_id: str
    link_ttl: timedelta
    link_base_url: str
    scale_threshold: int
    nps_threshold: int


# --- Questionnaires ----------------------------------------------------------------------------------


async def get_questionnaire(*, session: AsyncSession, questionnaire_id: str, version: int | None) -> Questionnaire:
    """A given version, or the latest one."""
    stmt = select(Questionnaire).where(col(Questionnaire.questionnaire_id) == questionnaire_id)
    stmt = (stmt.where(col(Questionnaire.version) == version) if version
            else stmt.order_by(col(Questionnaire.version).desc()))
    found = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    if found is None:
        which = f"version {version}" if version else "any version"
        raise NotFound(msg("questionnaire {questionnaire_id} has no {which}",
            questionnaire_id=questionnaire_id, which=which))
    return found


async def list_questionnaires(*, session: AsyncSession) -> list[Questionnaire]:
    """The latest version of every questionnaire."""
    latest = (select(col(Questionnaire.questionnaire_id), func.max(col(Questionnaire.version)).label("v"))
              .group_by(col(Questionnaire.questionnaire_id)).subquery())
    stmt = (select(Questionnaire)
            .join(latest, (col(Questionnaire.questionnaire_id) == latest.c.questionnaire_id)
                  & (col(Questionnaire.version) == latest.c.v))
            .order_by(col(Questionnaire.questionnaire_id)))
    return list((await session.execute(stmt)).scalars())


async def add_version(*, session: AsyncSession, questionnaire_id: str, body: QuestionnaireCreate, actor: str,
                      now: datetime) -> Questionnaire:
    """A new version; earlier answers keep pointing at the version they answered."""
    current = (await session.execute(select(func.max(col(Questionnaire.version))).where(
        col(Questionnaire.questionnaire_id) == questionnaire_id))).scalar_one()
    version = Questionnaire(questionnaire_id=questionnaire_id, version=(current or 0) + 1,
                            title_zh=body.title_zh, title_en=body.title_en,
                            questions=[q.model_dump(mode="json") for q in body.questions],
                            created_at=now, created_by=actor)
    session.add(version)
    return version


# --- Answers -------------------------------------------------------------------------------------------


async def _record_answers(
    session: AsyncSession, *, call: FollowUpCall, questionnaire: Questionnaire, answers: list[dict],
    channel: str, answered_by: str, actor: str, now: datetime, policy: SurveyPolicy,
) -> tuple[SurveyResponse, list[Complaint]]:
    domain.check_answers(questionnaire.questionnaire_id, questionnaire.version, questionnaire.questions, answers)
    if (await session.execute(select(col(SurveyResponse.id)).where(col(SurveyResponse.call_id) == call.id))).first():
        raise Conflict(msg("this call already has survey answers"))
    scores = domain.measured_scores(questionnaire.questions, answers)
    response = SurveyResponse(case_id=call.case_id, call_id=call.id, questionnaire_id=questionnaire.questionnaire_id,
                              questionnaire_version=questionnaire.version, channel=channel, answers=answers,
                              csat=scores.csat, nps=scores.nps, answered_by=answered_by, answered_at=now)
    session.add(response)
    await session.flush()  # the complaint refers to the response
    emit(session, SurveyAnswered(
        response_id=response.id, case_id=call.case_id, call_id=call.id,
        questionnaire_id=questionnaire.questionnaire_id, questionnaire_version=questionnaire.version,
        csat=scores.csat, nps=scores.nps, channel=channel,
    ), case_id=call.case_id, actor=actor)
    findings = domain.complaint_findings(questionnaire.questions, answers, scale_threshold=policy.scale_threshold,
                                         nps_threshold=policy.nps_threshold)
    raised: list[Complaint] = []
    if findings:
        comments = [a["value"] for a in answers if isinstance(a["value"], str)
                    and next((q for q in questionnaire.questions if q["id"] == a["question_id"]), {}).get("type")
                    == domain.QuestionType.FREE_TEXT]
        text = "; ".join(findings + [f"customer said: {c}" for c in comments])
        raised.append(complaints.raise_complaint(
            session, case_id=call.case_id, call_id=call.id, response_id=response.id, text=text,
            score=domain.lowest_score(questionnaire.questions, answers), product=call.equipment_type,
            actor=actor, now=now))
    return response, raised


async def answer_on_call(
    *, session: AsyncSession, call_id: UUID, questionnaire_id: str | None, version: int | None,
    answers: list[dict], agent: str, actor: str, now: datetime, policy: SurveyPolicy,
) -> tuple[SurveyResponse, list[Complaint]]:
    """S34: the agent holding the call records the customer's answers -> SurveyAnswered."""
    call = await calls.held_call(session=session, call_id=call_id, agent=agent, now=now)
    if call.reached_at is None:
        raise GateRefused(msg("S34 survey answers"), [msg("an attempt that reached the customer")])
    questionnaire = await get_questionnaire(session=session, questionnaire_id=questionnaire_id or
                                            policy.questionnaire_id, version=version)
    return await _record_answers(session, call=call, questionnaire=questionnaire, answers=answers, channel="call",
                                 answered_by=agent, actor=actor, now=now, policy=policy)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(policy: SurveyPolicy, token: str) -> str:
    """The page the customer opens: the token is its last path segment."""
    return f"{policy.link_base_url.rstrip('/')}/{token}"


async def create_link(*, session: AsyncSession, call_id: UUID, actor: str, now: datetime,
                      policy: SurveyPolicy, send_to_customer: bool = False) -> tuple[SurveyLink, str]:
    """A one-time link for the customer (e.g. sent by SMS when the phone is not convenient). With
    `send_to_customer` the system sends it (S34): SurveyLinkIssued carries the URL, a secret field that only
    dispatch's notification reads (decision 0090)."""
    call = await calls.get(session=session, call_id=call_id)
    if (await session.execute(select(col(SurveyResponse.id)).where(col(SurveyResponse.call_id) == call.id))).first():
        raise Conflict(msg("this call already has survey answers"))
    questionnaire = await get_questionnaire(session=session, questionnaire_id=policy.questionnaire_id, version=None)
    token = secrets.token_urlsafe(32)
    link = SurveyLink(token_hash=_hash(token), call_id=call.id, case_id=call.case_id,
                      questionnaire_id=questionnaire.questionnaire_id, questionnaire_version=questionnaire.version,
                      expires_at=now + policy.link_ttl, created_at=now, created_by=actor)
    session.add(link)
    if send_to_customer:
        emit(session, SurveyLinkIssued(
            link_id=link.id, call_id=link.call_id, case_id=link.case_id, url=link_url(policy, token),
            expires_at=link.expires_at, questionnaire_id=link.questionnaire_id,
            questionnaire_version=link.questionnaire_version), case_id=link.case_id, actor=actor)
    return link, token


async def open_link(*, session: AsyncSession, token: str, now: datetime,
                    for_update: bool = False) -> tuple[SurveyLink, Questionnaire]:
    """The link's questionnaire, while the link is unused and unexpired (404 unknown, 410 gone)."""
    stmt = select(SurveyLink).where(col(SurveyLink.token_hash) == _hash(token))
    link = (await session.execute(stmt.with_for_update() if for_update else stmt)).scalar_one_or_none()
    if link is None:
        raise NotFound(msg("no such survey link"))
    if link.used_at is not None:
        raise LinkGone(msg("this survey link was already used"))
    if link.expires_at <= now:
        raise LinkGone(msg("this survey link has expired"))
    questionnaire = await get_questionnaire(session=session, questionnaire_id=link.questionnaire_id,
                                            version=link.questionnaire_version)
    return link, questionnaire


async def answer_by_link(*, session: AsyncSession, token: str, answers: list[dict], now: datetime,
                         policy: SurveyPolicy) -> tuple[SurveyResponse, list[Complaint]]:
    """S34: the customer answers through the one-time link (single use) -> SurveyAnswered."""
    link, questionnaire = await open_link(session=session, token=token, now=now, for_update=True)
    call = await calls.get(session=session, call_id=link.call_id, for_update=True)
    customer = f"customer-link:{link.id}"
    result = await _record_answers(session, call=call, questionnaire=questionnaire, answers=answers, channel="link",
                                   answered_by=customer, actor=customer, now=now, policy=policy)
    link.used_at = now
    calls.complete_by_customer_answer(session, call, actor=customer, now=now)
    return result


async def get_response(*, session: AsyncSession, response_id: UUID) -> SurveyResponse:
    response = await get_or_404(session, SurveyResponse, response_id, what=msg("survey response"))
    return response


async def responses_for_call(*, session: AsyncSession, call_id: UUID) -> list[SurveyResponse]:
    stmt = select(SurveyResponse).where(col(SurveyResponse.call_id) == call_id)
    return list((await session.execute(stmt)).scalars())


# --- S30 receipt rating, S31 training evaluations ------------------------------------------------------


async def _record_feedback(session: AsyncSession, record: FeedbackRecord) -> FeedbackRecord | None:
    values = record.model_dump()
    inserted = await session.execute(insert(FeedbackRecord).values(**values).on_conflict_do_nothing(
        constraint="uq_feedback_record_source").returning(col(FeedbackRecord.id)))
    if inserted.first() is None:
        return None  # the same rating or evaluation again under another event id
    emit(session, FeedbackRecorded(feedback_id=record.id, case_id=record.case_id, kind=record.kind,
                                   score=record.score), case_id=record.case_id, actor=SERVICE_ACTOR)
    return record


async def record_receipt_rating(*, session: AsyncSession, event: ServiceCompleted,
                                now: datetime) -> FeedbackRecord | None:
    """S30: the rating on the signed service receipt, kept as feedback -> FeedbackRecorded."""
    if event.receipt_rating is None and not event.aspect_ratings:
        return None
    return await _record_feedback(session, FeedbackRecord(
        case_id=event.case_id, kind="receipt_rating", source_key=f"visit:{event.visit_id}",
        score=float(event.receipt_rating) if event.receipt_rating is not None else None,
        details={"comment": event.receipt_comment,
                 "aspects": [a.model_dump() for a in event.aspect_ratings]},
        region=event.region, equipment_type=event.equipment_type, engineer_ids=event.engineer_ids, recorded_at=now))


async def record_training_evaluation(*, session: AsyncSession, event: TrainingDelivered,
                                     now: datetime) -> FeedbackRecord | None:
    """S31: the training's evaluation forms (and test scores) -> FeedbackRecorded."""
    if not event.evaluation_scores and not event.test_scores:
        return None
    return await _record_feedback(session, FeedbackRecord(
        case_id=event.case_id, kind="training_evaluation", source_key=f"training:{event.training_id}",
        score=statistics.fmean(event.evaluation_scores) if event.evaluation_scores else None,
        details={"evaluation_scores": event.evaluation_scores, "test_scores": event.test_scores,
                 "topics": list(event.topics), "attendees": event.attendees},
        region=event.region, equipment_type=event.equipment_type, engineer_ids=[], recorded_at=now))


async def feedback_records(*, session: AsyncSession, case_id: UUID | None, kind: str | None, limit: int,
                           cursor: str | None) -> tuple[list[FeedbackRecord], str | None]:
    """Newest first, keyset-paginated on (recorded_at, id)."""
    stmt = where_given(select(FeedbackRecord), (col(FeedbackRecord.case_id), case_id),
                       (col(FeedbackRecord.kind), kind))
    return await keyset_page(session, stmt, model=FeedbackRecord, at=col(FeedbackRecord.recorded_at),
                             limit=limit, cursor=cursor, newest_first=True)


