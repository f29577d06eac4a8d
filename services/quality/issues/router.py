"""HTTP: quality issues (S25, S34): register, the two paths, the closed loop, SLA pauses, history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response, status

from services.quality.issues import service
from services.quality.issues.domain import Stage
from services.quality.issues.models import (
    Closure,
    Containment,
    CorrectiveAction,
    Escalation,
    IssueCorrection,
    JournalEntryRead,
    OnSiteResolution,
    PreventiveAction,
    QualityIssue,
    QualityIssueCreate,
    QualityIssueRead,
    Reopen,
    RootCause,
    Verification,
)
from services.quality.sla import service as sla
from services.quality.sla.models import SlaPause
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.concurrency import etag
from shared.api.pagination import Cursor, Page, PageSize
from shared.api.problems import PROBLEM_RESPONSES
from shared.clock import utcnow
from shared.db import transaction
from shared.events.quality import Severity

router = APIRouter(prefix="/issues", tags=["quality issues"])

IssueAuthor = Annotated[Principal, Depends(Requires(Role.ENGINEER, Role.QUALITY_ENGINEER))]
IssueReader = Annotated[Principal, Depends(Requires(
    Role.ENGINEER, Role.QUALITY_ENGINEER, Role.DISPATCHER, Role.DEPARTMENT_HEAD))]
QualityOwner = Annotated[Principal, Depends(Requires(Role.QUALITY_ENGINEER))]
IfMatch = Annotated[str | None, Header(max_length=200, description="ETag of the issue as read (412 if stale)")]

WRITE_PROBLEMS: dict[int | str, dict[str, Any]] = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412)}


def read(issue: QualityIssue, response: Response | None = None) -> QualityIssueRead:
    """The issue as shown, with its SLA clocks evaluated now."""
    if response is not None:
        response.headers["ETag"] = etag(issue.version)
    shown = QualityIssueRead.model_validate(issue)
    shown.sla = sla.view(issue, utcnow())
    return shown


@router.post("", response_model=QualityIssueRead, status_code=status.HTTP_201_CREATED,
             summary="S25: register a product quality problem",
             responses={k: PROBLEM_RESPONSES[k] for k in (403, 422)})
async def log_issue(body: QualityIssueCreate, principal: IssueAuthor, sessions: Sessions,
                    response: Response) -> QualityIssueRead:
    async with transaction(sessions) as session:
        issue = await service.log_issue(session=session, body=body, principal=principal)
    response.headers["Location"] = f"/issues/{issue.id}"
    return read(issue, response)


@router.get("", response_model=Page[QualityIssueRead],
            summary="Issues by case, product, model, failure mode, severity, state, owner, source, age")
async def list_issues(
    principal: IssueReader, sessions: Sessions, limit: PageSize = 50, cursor: Cursor = None,
    case_id: UUID | None = None,
    product: Annotated[str | None, Query(max_length=200)] = None,
    model: Annotated[str | None, Query(max_length=100)] = None,
    failure_mode: Annotated[str | None, Query(max_length=100)] = None,
    severity: Severity | None = None,
    status: Annotated[str | None, Query(alias="state", max_length=32)] = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    min_age_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    max_age_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
) -> Page[QualityIssueRead]:
    async with sessions() as session:
        issues, next_cursor = await service.search(
            session=session, principal=principal, limit=limit, cursor=cursor, case_id=case_id, product=product,
            model=model, failure_mode=failure_mode, severity=severity, status=status, owner=owner, source=source,
            min_age_days=min_age_days, max_age_days=max_age_days)
    return Page(items=[read(i) for i in issues], next_cursor=next_cursor)


@router.get("/{issue_id}", response_model=QualityIssueRead, summary="One quality issue (with its SLA clocks)",
            responses={404: PROBLEM_RESPONSES[404]})
async def get_issue(issue_id: UUID, principal: IssueReader, sessions: Sessions, response: Response) -> QualityIssueRead:
    async with sessions() as session:
        issue = await service.get(session=session, issue_id=issue_id, principal=principal)
    return read(issue, response)


@router.get("/{issue_id}/history", response_model=list[JournalEntryRead],
            summary="The issue's journal: every transition, correction and SLA fact",
            responses={404: PROBLEM_RESPONSES[404]})
async def issue_history(issue_id: UUID, principal: IssueReader, sessions: Sessions) -> list[JournalEntryRead]:
    async with sessions() as session:
        entries = await service.history(session=session, issue_id=issue_id, principal=principal)
    return [JournalEntryRead.model_validate(e) for e in entries]


async def _write(sessions: Any, response: Response,
                 change: Callable[[Any], Awaitable[QualityIssue]]) -> QualityIssueRead:
    async with transaction(sessions) as session:
        issue = await change(session)
    return read(issue, response)


@router.post("/{issue_id}/corrections", response_model=QualityIssueRead, responses=WRITE_PROBLEMS,
             summary="Correct a registered fact (a new journal entry; nothing is deleted)")
async def correct_issue(issue_id: UUID, body: IssueCorrection, principal: IssueAuthor, sessions: Sessions,
                        response: Response, if_match: IfMatch = None) -> QualityIssueRead:
    return await _write(sessions, response, lambda s: service.correct(
        session=s, issue_id=issue_id, body=body, principal=principal, if_match=if_match))


@router.post("/{issue_id}/on-site-resolution", response_model=QualityIssueRead, responses=WRITE_PROBLEMS,
             summary="S25: fixed on site, confirmed by the customer -> IssueResolvedOnSite")
async def resolve_on_site(issue_id: UUID, body: OnSiteResolution, principal: IssueAuthor, sessions: Sessions,
                          response: Response, if_match: IfMatch = None) -> QualityIssueRead:
    return await _write(sessions, response, lambda s: service.resolve_on_site(
        session=s, issue_id=issue_id, body=body, principal=principal, if_match=if_match))


@router.post("/{issue_id}/escalation", response_model=QualityIssueRead, responses=WRITE_PROBLEMS,
             summary="S25: send to the company's closed loop (unit, owner; due date from the SLA) -> IssueEscalated")
async def escalate(issue_id: UUID, body: Escalation, principal: IssueAuthor, sessions: Sessions,
                   response: Response, if_match: IfMatch = None) -> QualityIssueRead:
    return await _write(sessions, response, lambda s: service.escalate(
        session=s, issue_id=issue_id, body=body, principal=principal, if_match=if_match))


def _stage_route(path: str, stage: Stage, model: type, summary: str) -> None:
    async def record(issue_id: UUID, body: Any, principal: QualityOwner, sessions: Sessions,
                     response: Response, if_match: IfMatch = None) -> QualityIssueRead:
        return await _write(sessions, response, lambda s: service.record_stage(
            session=s, issue_id=issue_id, stage=stage, body=body, principal=principal, if_match=if_match))

    record.__annotations__["body"] = model  # each stage has its own request model
    record.__name__ = f"record_{stage.value}"
    router.add_api_route(path, record, methods=["POST"], response_model=QualityIssueRead, summary=summary,
                         responses=WRITE_PROBLEMS)


_stage_route("/{issue_id}/containment", Stage.CONTAINMENT, Containment, "Closed loop: containment -> IssueContained")
_stage_route("/{issue_id}/root-cause", Stage.ROOT_CAUSE, RootCause,
             "Closed loop: root cause by five_whys or fishbone -> RootCauseIdentified")
_stage_route("/{issue_id}/corrective-action", Stage.CORRECTIVE_ACTION, CorrectiveAction,
             "Closed loop: corrective action -> CorrectiveActionDefined")
_stage_route("/{issue_id}/preventive-action", Stage.PREVENTIVE_ACTION, PreventiveAction,
             "Closed loop: preventive action, may name a template to revise -> PreventiveActionDefined")
_stage_route("/{issue_id}/verification", Stage.VERIFICATION, Verification,
             "Closed loop: verification of effectiveness -> IssueVerified")


@router.post("/{issue_id}/closure", response_model=QualityIssueRead, responses=WRITE_PROBLEMS,
             summary="Close the loop (needs root cause, corrective and preventive action, positive verification)")
async def close_issue(issue_id: UUID, body: Closure, principal: QualityOwner, sessions: Sessions,
                      response: Response, if_match: IfMatch = None) -> QualityIssueRead:
    return await _write(sessions, response, lambda s: service.close(
        session=s, issue_id=issue_id, body=body, principal=principal, if_match=if_match))


@router.post("/{issue_id}/reopening", response_model=QualityIssueRead, responses=WRITE_PROBLEMS,
             summary="Reopen a closed issue with a reason -> IssueReopened")
async def reopen_issue(issue_id: UUID, body: Reopen, principal: QualityOwner, sessions: Sessions,
                       response: Response, if_match: IfMatch = None) -> QualityIssueRead:
    return await _write(sessions, response, lambda s: service.reopen(
        session=s, issue_id=issue_id, body=body, principal=principal, if_match=if_match))


@router.post("/{issue_id}/sla-pause", response_model=QualityIssueRead, responses=WRITE_PROBLEMS,
             summary="Pause the SLA clocks while waiting for the customer")
async def pause_sla(issue_id: UUID, body: SlaPause, principal: QualityOwner, sessions: Sessions,
                    response: Response, if_match: IfMatch = None) -> QualityIssueRead:
    return await _write(sessions, response, lambda s: service.pause_sla(
        session=s, issue_id=issue_id, reason=body.reason, principal=principal, if_match=if_match))


@router.post("/{issue_id}/sla-resume", response_model=QualityIssueRead, responses=WRITE_PROBLEMS,
             summary="Resume the SLA clocks (deadlines move by the time paused)")
async def resume_sla(issue_id: UUID, principal: QualityOwner, sessions: Sessions,
                     response: Response, if_match: IfMatch = None) -> QualityIssueRead:
    return await _write(sessions, response, lambda s: service.resume_sla(
        session=s, issue_id=issue_id, principal=principal, if_match=if_match))
