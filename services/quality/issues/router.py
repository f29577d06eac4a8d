"""HTTP: quality issues (S25)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from services.quality.issues import service
from services.quality.issues.models import QualityIssueCreate, QualityIssueRead
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.concurrency import etag
from shared.api.pagination import PageSize
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(prefix="/issues", tags=["quality issues"])

IssueAuthor = Annotated[Principal, Depends(Requires(Role.ENGINEER, Role.QUALITY_ENGINEER))]
IssueReader = Annotated[Principal, Depends(Requires(
    Role.ENGINEER, Role.QUALITY_ENGINEER, Role.DISPATCHER, Role.DEPARTMENT_HEAD))]


@router.post("", response_model=QualityIssueRead, status_code=status.HTTP_201_CREATED,
             summary="S25: register a product quality problem",
             responses={k: PROBLEM_RESPONSES[k] for k in (403,)})
async def log_issue(body: QualityIssueCreate, principal: IssueAuthor, sessions: Sessions,
                    response: Response) -> QualityIssueRead:
    async with transaction(sessions) as session:
        issue = await service.log_issue(session=session, body=body, principal=principal)
    response.headers["Location"] = f"/issues/{issue.id}"
    return QualityIssueRead.model_validate(issue)


@router.get("", response_model=list[QualityIssueRead], summary="Issues of a case")
async def list_issues(principal: IssueReader, sessions: Sessions, case_id: Annotated[UUID, Query()],
                      limit: PageSize = 50) -> list[QualityIssueRead]:
    async with sessions() as session:
        issues = await service.list_for_case(session=session, case_id=case_id, principal=principal, limit=limit)
    return [QualityIssueRead.model_validate(i) for i in issues]


@router.get("/{issue_id}", response_model=QualityIssueRead, summary="One quality issue",
            responses={404: PROBLEM_RESPONSES[404]})
async def get_issue(issue_id: UUID, principal: IssueReader, sessions: Sessions, response: Response) -> QualityIssueRead:
    async with sessions() as session:
        issue = await service.get(session=session, issue_id=issue_id, principal=principal)
    response.headers["ETag"] = etag(issue.version)
    return QualityIssueRead.model_validate(issue)
