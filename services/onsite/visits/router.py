"""HTTP: the site visit (the team works on it; dispatchers and admins read it)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.visit_routes import Engineer, VisitReader
from services.onsite.visits import service
from services.onsite.visits.models import (
    ArrivalCreate,
    SiteVisit,
    SiteVisitRead,
    ThreeCallsRead,
    VisitIssueRead,
)
from shared.api.app import Sessions
from shared.api.concurrency import etag
from shared.api.conditional import NOT_MODIFIED, IfNoneMatch, conditional
from shared.api.pagination import Cursor, Page, PageSize
from shared.api.personal_data import audit_read, contact_subjects
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(prefix="/visits", tags=["site visits"])



async def read_visit(session: AsyncSession, visit: SiteVisit) -> SiteVisitRead:
    """The visit with its arrivals and quality issues."""
    arrivals, issues = await service.details(session=session, visit=visit)
    out = SiteVisitRead.model_validate(visit)
    out.arrivals = [ThreeCallsRead.model_validate(a) for a in arrivals]
    out.quality_issues = [VisitIssueRead.model_validate(i) for i in issues]
    return out


@router.get("", response_model=Page[SiteVisitRead], summary="Visits, newest first (an engineer sees their own)")
async def list_visits(
    principal: VisitReader, sessions: Sessions, case_id: Annotated[UUID | None, Query()] = None,
    limit: PageSize = 50, cursor: Cursor = None,
) -> Page[SiteVisitRead]:
    async with sessions() as session:
        visits, next_cursor = await service.list_visits(session=session, principal=principal, case_id=case_id,
                                                        limit=limit, cursor=cursor)
        return Page(items=[await read_visit(session, v) for v in visits], next_cursor=next_cursor)


@router.get("/{visit_id}", response_model=SiteVisitRead, summary="One visit with arrivals and quality issues",
            responses={**NOT_MODIFIED, 404: PROBLEM_RESPONSES[404]})
async def get_visit(request: Request, visit_id: UUID, principal: VisitReader, sessions: Sessions,
                    if_none_match: IfNoneMatch = None) -> Response:
    async with sessions() as session:
        visit = await service.get(session=session, visit_id=visit_id, principal=principal)
        # the version covers the whole representation (arrivals and issues bump it), so it is the ETag
        # for If-None-Match (polling) and If-Match (closing writes) alike
        answer = conditional(await read_visit(session, visit), if_none_match, etag=etag(visit.version))
    await audit_read(sessions, request, principal, "customer_contact", contact_subjects(visit.contacts))
    return answer


@router.post("/{visit_id}/arrivals", response_model=ThreeCallsRead, status_code=status.HTTP_201_CREATED,
             summary="S8: arrival with the three calls (order and gaps become compliance findings)",
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409)})
async def record_arrival(
    visit_id: UUID, body: ArrivalCreate, principal: Engineer, sessions: Sessions
) -> ThreeCallsRead:
    async with transaction(sessions) as session:
        record = await service.record_arrival(session=session, visit_id=visit_id, body=body, principal=principal)
    return ThreeCallsRead.model_validate(record)
