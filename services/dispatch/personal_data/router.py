"""HTTP: personal data across the four services in one request (decision 0093): the export gathers what each
service holds about a person, the erasure pseudonymises them everywhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from services.dispatch.personal_data.peers import ask_all
from services.dispatch.privacy import PRIVACY
from shared.api.app import Sessions
from shared.api.personal_data import (
    ErasureCreate,
    ErasureRead,
    PersonalDataExport,
    PrivacyOfficer,
    audit_read,
    erase_subject,
    export,
    resolve,
)
from shared.api.problems import problem_responses
from shared.api.shapes import StrictBody
from shared.clock import utcnow
from shared.db import transaction
from shared.privacy import SubjectKind, normalise

router = APIRouter(prefix="/personal-data", tags=["personal data"])
_ERR = problem_responses(503)
Authorization = Annotated[str, Header(include_in_schema=False)]


class SubjectRequest(StrictBody):
    """Whom the request is about."""

    subject_kind: SubjectKind
    subject: str = Field(min_length=1, max_length=200, description="An engineer's id, or a customer contact's "
                         "e-mail or phone", examples=["li.wei@grid.example.cn"])


class PersonalDataEverywhere(BaseModel):
    """Everything the four services hold about a person, by service."""

    subject_kind: SubjectKind
    subject: str
    services: dict[str, PersonalDataExport]


class ErasureEverywhere(BaseModel):
    """The erasure's record in each of the four services (the same pseudonym in all)."""

    subject_kind: SubjectKind
    pseudonym: str
    services: dict[str, ErasureRead]


def _hints(known_as: set[str], cases: set[str]) -> list[tuple[str, str]]:
    return [*(("known_as", n) for n in sorted(known_as)), *(("case", c) for c in sorted(cases))]


@router.post("/exports", response_model=PersonalDataEverywhere, responses=_ERR,
             summary="Export everything the four services hold about a person (one request)")
async def export_personal_data_everywhere(request: Request, body: SubjectRequest, principal: PrivacyOfficer,
                                          sessions: Sessions, authorization: Authorization) -> PersonalDataEverywhere:
    async with sessions() as session:
        subject = await resolve(session, PRIVACY, body.subject_kind, body.subject)
        here = await export(session, PRIVACY, subject)
    # the names and cases dispatch knows let the others find a person they hold no address of
    params = [("subject_kind", body.subject_kind), ("subject", body.subject),
              *_hints(subject.names | subject.addresses, subject.cases)]
    answers = await ask_all(request.app.state.settings, "GET", "/personal-data", authorization=authorization,
                            params=params)
    await audit_read(sessions, request, principal, body.subject_kind, [normalise(body.subject)])
    return PersonalDataEverywhere(subject_kind=body.subject_kind, subject=body.subject, services={
        "dispatch": here, **{peer: PersonalDataExport.model_validate(a) for peer, a in answers.items()}})


@router.post("/erasure-requests", response_model=ErasureEverywhere, responses=_ERR,
             summary="Erase a person in the four services (one request; repeating it changes nothing more)")
async def erase_personal_data_everywhere(request: Request, body: SubjectRequest, principal: PrivacyOfficer,
                                         sessions: Sessions, authorization: Authorization) -> ErasureEverywhere:
    settings = request.app.state.settings
    async with sessions() as session:
        subject = await resolve(session, PRIVACY, body.subject_kind, body.subject)
    erasure = ErasureCreate(subject_kind=body.subject_kind, subject=body.subject,
                            known_as=sorted(subject.names | subject.addresses)[:50], cases=sorted(subject.cases)[:1000])
    # the others first, dispatch last: until dispatch is erased, a repeated request still finds the names and
    # cases it must pass on
    answers = await ask_all(settings, "POST", "/personal-data/erasures", authorization=authorization,
                            json=erasure.model_dump(mode="json"))
    async with transaction(sessions) as session:
        here = await erase_subject(session, PRIVACY, settings, body=erasure, actor=principal.actor, now=utcnow())
    return ErasureEverywhere(subject_kind=body.subject_kind, pseudonym=here.pseudonym, services={
        "dispatch": here, **{peer: ErasureRead.model_validate(a) for peer, a in answers.items()}})
