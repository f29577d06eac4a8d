"""HTTP: suggested teams for one case or a batch (CP-SAT under a time limit, greedy fallback)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request

from services.dispatch.suggestions import service
from services.dispatch.suggestions.models import BatchSuggestionRequest, CaseSuggestionRequest, SuggestionRead
from shared.api.app import Sessions
from shared.api.auth import Dispatcher
from shared.api.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["suggested assignment"])


def time_limit(request: Request) -> float:
    """How long the solver may search for a suggestion or a repair (SUGGESTION_TIME_LIMIT_SECONDS)."""
    return float(request.app.state.settings.suggestion_time_limit_seconds)


TimeLimit = Annotated[float, Depends(time_limit)]


@router.post("/cases/{case_id}/assignment-suggestion", response_model=SuggestionRead,
             responses={k: PROBLEM_RESPONSES[k] for k in (404, 409)},
             summary="Suggest a team for one case under every S3 rule (apply it with POST /cases/{id}/assignment)")
async def suggest_for_case(case_id: UUID, principal: Dispatcher, sessions: Sessions, limit: TimeLimit,
                           body: CaseSuggestionRequest | None = None) -> SuggestionRead:
    async with sessions() as session:
        return await service.suggest_for_case(session=session, case_id=case_id, body=body or CaseSuggestionRequest(),
                                              time_limit=limit)


@router.post("/assignment-suggestions", response_model=SuggestionRead,
             summary="Suggest teams for every acknowledged, unstaffed case arriving in a period")
async def suggest_batch(body: BatchSuggestionRequest, principal: Dispatcher, sessions: Sessions,
                        limit: TimeLimit) -> SuggestionRead:
    async with sessions() as session:
        return await service.suggest_batch(session=session, body=body, time_limit=limit)
