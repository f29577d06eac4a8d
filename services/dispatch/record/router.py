"""HTTP: the case's conformance with the standard (S1-S34), built from its timeline."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.dispatch.cases import service as cases
from services.dispatch.record import domain
from services.dispatch.record.models import ConformanceRead
from shared.api.app import Sessions
from shared.api.auth import CaseWorker
from shared.api.problems import PROBLEM_RESPONSES
from shared.clock import utcnow

router = APIRouter(tags=["case record"])


@router.get("/cases/{case_id}/conformance", response_model=ConformanceRead, responses={404: PROBLEM_RESPONSES[404]},
            summary="For each of S1-S34: done / missing / not applicable / in progress, with proof and findings")
async def get_conformance(case_id: UUID, principal: CaseWorker, sessions: Sessions) -> ConformanceRead:
    async with sessions() as session:
        events = await cases.timeline(session=session, case_id=case_id, principal=principal)
    today = utcnow().astimezone(domain.SITE_TIMEZONE).date()
    steps = domain.conformance([domain.TimelineEvent(e.event_id, e.event_type, e.actor, e.occurred_at, e.data)
                                for e in events], today=today)
    return ConformanceRead(case_id=case_id, summary=domain.summary(steps), steps=steps)
