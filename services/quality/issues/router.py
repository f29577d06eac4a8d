"""HTTP: quality issues (S25, S34): register, the two paths, the closed loop, SLA pauses, history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, Protocol
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

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


class IssueChange(Protocol):
    """A service function that changes one issue from a request body (under If-Match)."""

    def __call__(self, *, session: AsyncSession, issue_id: UUID, body: Any, principal: Principal,
                 if_match: str | None) -> Awaitable[QualityIssue]: ...


def _change_route(path: str, name: str, model: type[BaseModel], who: Any, summary: str,
                  change: IssueChange) -> None:
    """POST a change to one issue: `model` is its body, `who` the roles that may send it; answers the issue."""

    async def endpoint(issue_id: UUID, body: Any, principal: Principal, sessions: Sessions,
                       response: Response, if_match: IfMatch = None) -> QualityIssueRead:
        return await _write(sessions, response, lambda s: change(
            session=s, issue_id=issue_id, body=body, principal=principal, if_match=if_match))

    endpoint.__annotations__.update(body=model, principal=who)  # each change has its own body and roles
    endpoint.__name__ = name
    router.add_api_route(path, endpoint, methods=["POST"], response_model=QualityIssueRead, summary=summary,
                         responses=WRITE_PROBLEMS)


_change_route("/{issue_id}/corrections", "correct_issue", IssueCorrection, IssueAuthor,
              "Correct a registered fact (a new journal entry; nothing is deleted)", service.correct)
_change_route("/{issue_id}/on-site-resolution", "resolve_on_site", OnSiteResolution, IssueAuthor,
              "S25: fixed on site, confirmed by the customer -> IssueResolvedOnSite", service.resolve_on_site)
_change_route("/{issue_id}/escalation", "escalate", Escalation, IssueAuthor,
              "S25: send to the company's closed loop (unit, owner; due date from the SLA) -> IssueEscalated",
              service.escalate)
for _path, _stage, _model, _summary in (
    ("/{issue_id}/containment", Stage.CONTAINMENT, Containment, "Closed loop: containment -> IssueContained"),
    ("/{issue_id}/root-cause", Stage.ROOT_CAUSE, RootCause,
     "Closed loop: root cause by five_whys or fishbone -> RootCauseIdentified"),
    ("/{issue_id}/corrective-action", Stage.CORRECTIVE_ACTION, CorrectiveAction,
     "Closed loop: corrective action -> CorrectiveActionDefined"),
    ("/{issue_id}/preventive-action", Stage.PREVENTIVE_ACTION, PreventiveAction,
     "Closed loop: preventive action, may name a template to revise -> PreventiveActionDefined"),
    ("/{issue_id}/verification", Stage.VERIFICATION, Verification,
     "Closed loop: verification of effectiveness -> IssueVerified"),
):
    _change_route(_path, f"record_{_stage.value}", _model, QualityOwner, _summary,
                  partial(service.record_stage, stage=_stage))
_change_route("/{issue_id}/closure", "close_issue", Closure, QualityOwner,
              "Close the loop (needs root cause, corrective and preventive action, positive verification)",
              service.close)
_change_route("/{issue_id}/reopening", "reopen_issue", Reopen, QualityOwner,
              "Reopen a closed issue with a reason -> IssueReopened", service.reopen)


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
