"""HTTP: questionnaires, survey answers (by the agent on a call, or the customer through a link),
and the S30/S31 feedback records."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.agents import acting_agent
from services.feedback.clock import Now
from services.feedback.complaints.models import Complaint
from services.feedback.idempotent import IdempotencyKey, run_idempotent
from services.feedback.openapi import ANSWERS_DO_NOT_FIT, problem_responses
from services.feedback.surveys import service
from services.feedback.surveys.models import (
    FeedbackRecordRead,
    LinkAnswersCreate,
    QuestionnaireCreate,
    QuestionnaireRead,
    SurveyAnswersCreate,
    SurveyLinkCreate,
    SurveyLinkRead,
    SurveyResponse,
    SurveyResponseRead,
)
from services.feedback.surveys.service import SurveyPolicy
from shared.api.app import Sessions
from shared.api.auth import CALL_CENTRE, Principal, Requires, Role
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.db import transaction

router = APIRouter(tags=["surveys"])

Reader = Annotated[Principal, Depends(Requires(
    *CALL_CENTRE, Role.DISPATCHER, Role.DEPARTMENT_HEAD, Role.QUALITY_ENGINEER))]
Agent = Annotated[Principal, Depends(Requires(*CALL_CENTRE))]
Editor = Annotated[Principal, Depends(Requires(Role.DEPARTMENT_HEAD))]
QuestionnaireId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]
Token = Annotated[str, Path(min_length=20, max_length=100, description="The one-time token of the link")]


async def survey_policy(request: Request) -> SurveyPolicy:
    s = request.app.state.settings
    return SurveyPolicy(questionnaire_id=s.survey_questionnaire_id, link_ttl=timedelta(hours=s.survey_link_ttl_hours),
                        link_base_url=s.survey_link_base_url, scale_threshold=s.complaint_scale_threshold,
                        nps_threshold=s.complaint_nps_threshold)


Policy = Annotated[SurveyPolicy, Depends(survey_policy)]



def _read(response: SurveyResponse, complaints: list[Complaint]) -> dict[str, Any]:
    return SurveyResponseRead.model_validate(response).model_copy(
        update={"complaint_ids": [c.id for c in complaints]}).model_dump(mode="json")


# --- Questionnaires -----------------------------------------------------------------------------------


@router.get("/questionnaires", response_model=list[QuestionnaireRead], tags=["questionnaires"],
            summary="The latest version of every questionnaire (Chinese and English texts)")
async def list_questionnaires(principal: Reader, sessions: Sessions) -> list[QuestionnaireRead]:
    async with sessions() as session:
        return [QuestionnaireRead.model_validate(q) for q in await service.list_questionnaires(session=session)]


@router.get("/questionnaires/{questionnaire_id}", response_model=QuestionnaireRead, tags=["questionnaires"],
            summary="The latest version of a questionnaire", responses=problem_responses(404))
async def latest_questionnaire(questionnaire_id: QuestionnaireId, principal: Reader,
                               sessions: Sessions) -> QuestionnaireRead:
    async with sessions() as session:
        return QuestionnaireRead.model_validate(await service.get_questionnaire(
            session=session, questionnaire_id=questionnaire_id, version=None))


@router.get("/questionnaires/{questionnaire_id}/versions/{version}", response_model=QuestionnaireRead,
            tags=["questionnaires"], summary="One version of a questionnaire", responses=problem_responses(404))
async def questionnaire_version(questionnaire_id: QuestionnaireId, version: Annotated[int, Path(ge=1, le=10_000)],
                                principal: Reader, sessions: Sessions) -> QuestionnaireRead:
    async with sessions() as session:
        return QuestionnaireRead.model_validate(await service.get_questionnaire(
            session=session, questionnaire_id=questionnaire_id, version=version))


@router.post("/questionnaires/{questionnaire_id}/versions", response_model=QuestionnaireRead,
             status_code=status.HTTP_201_CREATED, tags=["questionnaires"],
             summary="Publish a new version of a questionnaire",
             description="Question types: scale_1_5, nps_0_10, choice (with choices; a choice may be marked "
                         "as a complaint), free_text. One scale_1_5 question may carry `measure: csat`, one "
                         "nps_0_10 question `measure: nps`. Earlier answers keep their version.",
             responses=problem_responses(422))
async def publish_version(questionnaire_id: QuestionnaireId, body: QuestionnaireCreate, principal: Editor,
                          sessions: Sessions, now: Now) -> QuestionnaireRead:
    async with transaction(sessions) as session:
        version = await service.add_version(session=session, questionnaire_id=questionnaire_id, body=body,
                                            actor=principal.actor, now=now)
    return QuestionnaireRead.model_validate(version)


# --- Answers by the agent ----------------------------------------------------------------------------------


@router.post("/follow-up-calls/{call_id}/survey-responses", response_model=SurveyResponseRead,
             status_code=status.HTTP_201_CREATED, tags=["follow-up calls"],
             summary="S34: record the customer's survey answers during the call -> SurveyAnswered",
             description="Only the agent holding the call, after an attempt that reached the customer. Answers "
                         "that do not fit the questionnaire version give 422 naming each question "
                         "(`errors[].field` = `answers.<question id>`). A score under the complaint threshold, a "
                         "choice marked as a complaint or an answer with `complaint: true` raises ComplaintRaised "
                         "(see `complaint_ids`). Idempotent with `Idempotency-Key`.",
             responses=problem_responses(403, 404, 409, 422, 428, examples=ANSWERS_DO_NOT_FIT))
async def answer_on_call(
    call_id: UUID, body: SurveyAnswersCreate, principal: Agent, sessions: Sessions, now: Now, policy: Policy,
    request: Request, response: Response, idempotency_key: IdempotencyKey = None,
) -> Any:
    agent = acting_agent(principal, body.agent)
    answers = [a.model_dump() for a in body.answers]

    async def work(session: AsyncSession) -> dict[str, Any]:
        recorded, raised = await service.answer_on_call(
            session=session, call_id=call_id, questionnaire_id=body.questionnaire_id,
            version=body.questionnaire_version, answers=answers, agent=agent, actor=principal.actor, now=now,
            policy=policy)
        return _read(recorded, raised)

    return await run_idempotent(sessions=sessions, response=response, principal=principal,
                                key=idempotency_key, status_code=201, work=work)


@router.post("/follow-up-calls/{call_id}/survey-links", response_model=SurveyLinkRead,
             status_code=status.HTTP_201_CREATED, tags=["follow-up calls"],
             summary="A one-time survey link for the customer (single use, expires)",
             description="Returns the token once, with the URL to send the customer (SMS or e-mail). With "
                         "`send_to_customer: true` the system sends it (S34, SurveyLinkIssued: dispatch mails or "
                         "texts the case's customer contact in their contact window). "
                         "Idempotent with `Idempotency-Key`.",
             responses=problem_responses(404, 409, 428))
async def create_link(
    call_id: UUID, body: SurveyLinkCreate, principal: Agent, sessions: Sessions, now: Now, policy: Policy,
    request: Request, response: Response, idempotency_key: IdempotencyKey = None,
) -> Any:
    acting_agent(principal, body.agent)

    async def work(session: AsyncSession) -> dict[str, Any]:
        link, token = await service.create_link(session=session, call_id=call_id, actor=principal.actor, now=now,
                                                policy=policy, send_to_customer=body.send_to_customer)
        return SurveyLinkRead(link_id=link.id, call_id=link.call_id, token=token,
                              url=service.link_url(policy, token), expires_at=link.expires_at,
                              questionnaire_id=link.questionnaire_id,
                              questionnaire_version=link.questionnaire_version).model_dump(mode="json")

    return await run_idempotent(sessions=sessions, response=response, principal=principal,
                                key=idempotency_key, status_code=201, work=work)


# --- The customer's one-time link (the token is the credential) -------------------------------------------


@router.get("/survey-links/{token}", response_model=QuestionnaireRead, tags=["customer survey"],
            summary="The questionnaire behind a one-time link (for the customer; no bearer token)",
            responses=problem_responses(404, 410), openapi_extra={"x-auth": "one-time-link"})
async def open_link(token: Token, sessions: Sessions, now: Now) -> QuestionnaireRead:
    async with sessions() as session:
        _link, questionnaire = await service.open_link(session=session, token=token, now=now)
    return QuestionnaireRead.model_validate(questionnaire)


@router.post("/survey-links/{token}/answers", response_model=SurveyResponseRead, status_code=status.HTTP_201_CREATED,
             tags=["customer survey"], summary="S34: the customer answers through a one-time link -> SurveyAnswered",
             openapi_extra={"x-auth": "one-time-link"},
             description="Single use: a second submission gives 410. Answers that do not fit the link's "
                         "questionnaire version give 422 naming each question.",
             responses=problem_responses(404, 410, 422))
async def answer_by_link(token: Token, body: LinkAnswersCreate, sessions: Sessions, now: Now,
                         policy: Policy) -> SurveyResponseRead:
    async with transaction(sessions) as session:
        recorded, raised = await service.answer_by_link(session=session, token=token,
                                                        answers=[a.model_dump() for a in body.answers], now=now,
                                                        policy=policy)
    return SurveyResponseRead.model_validate(_read(recorded, raised))


@router.get("/survey-responses/{response_id}", response_model=SurveyResponseRead, summary="One survey response",
            responses=problem_responses(404))
async def get_response(response_id: UUID, principal: Reader, sessions: Sessions) -> SurveyResponseRead:
    async with sessions() as session:
        return SurveyResponseRead.model_validate(await service.get_response(session=session, response_id=response_id))


# --- S30 / S31 feedback --------------------------------------------------------------------------------------


@router.get("/feedback-records", response_model=Page[FeedbackRecordRead], tags=["feedback records"],
            summary="S30 receipt ratings and S31 training evaluations, newest first")
async def feedback_records(
    principal: Reader, sessions: Sessions, case_id: Annotated[UUID | None, Query()] = None,
    kind: Annotated[str | None, Query(pattern="^(receipt_rating|training_evaluation)$")] = None,
    limit: PageSize = 50, cursor: Cursor = None,
) -> Page[FeedbackRecordRead]:
    async with sessions() as session:
        rows, nxt = await service.feedback_records(session=session, case_id=case_id, kind=kind, limit=limit,
                                                   cursor=cursor)
    return page_of(FeedbackRecordRead, rows, nxt)
