"""HTTP: the follow-up call queue for the call-centre tool and its agents (S34).

The tool is one machine client (role `call_centre_tool`) acting for many agents: it names the
agent in each command's `agent` field and sends an `Idempotency-Key` on every creating POST.
Human agents (role `call_centre_agent`) act as themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.agents import acting_agent
from services.feedback.calls import domain, service
from services.feedback.calls.models import (
    AttemptCreate,
    AttemptRead,
    CallStatus,
    ClaimCommand,
    ComplaintOnCall,
    FollowUpCall,
    FollowUpCallDetail,
    FollowUpCallRead,
    OutcomeCreate,
)
from services.feedback.calls.service import CallPolicy
from services.feedback.clock import Now
from services.feedback.complaints import service as complaints
from services.feedback.idempotent import IdempotencyKey, run_idempotent
from services.feedback.openapi import HELD_BY_ANOTHER, OUTCOME_GATE, problem_responses
from services.feedback.surveys import service as surveys
from shared.api.app import Sessions
from shared.api.auth import CALL_CENTRE, Principal, Requires, Role
from shared.api.concurrency import etag
from shared.api.pagination import Cursor, Page, PageSize, encode_cursor
from shared.db import transaction

router = APIRouter(prefix="/follow-up-calls", tags=["follow-up calls"])

CallReader = Annotated[Principal, Depends(Requires(
    *CALL_CENTRE, Role.DISPATCHER, Role.DEPARTMENT_HEAD, Role.QUALITY_ENGINEER))]
Agent = Annotated[Principal, Depends(Requires(*CALL_CENTRE))]
IfMatch = Annotated[str | None, Header(description="ETag of the call as read; a stale one gives 412")]


async def call_policy(request: Request) -> CallPolicy:
    return CallPolicy.from_settings(request.app.state.settings)


Policy = Annotated[CallPolicy, Depends(call_policy)]


def read_call(call: FollowUpCall, now: datetime) -> FollowUpCallRead:
    """The call as the API shows it: an expired lease shows no holder."""
    view = FollowUpCallRead.model_validate(call)
    if domain.current_holder(call.claimed_by, call.lease_expires_at, now) is None:
        view = view.model_copy(update={"claimed_by": None, "lease_expires_at": None})
    return view



@router.get("", response_model=Page[FollowUpCallRead], summary="Follow-up calls, earliest due first",
            description="Every call, filtered by case, status or the agent holding it (`held_by`, e.g. the "
                        "calls an agent has in hand); keyset-paginated (`next_cursor`).")
async def list_calls(
    principal: CallReader, sessions: Sessions, now: Now,
    case_id: Annotated[UUID | None, Query()] = None,
    status_filter: Annotated[CallStatus | None, Query(alias="status")] = None,
    held_by: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: PageSize = 50, cursor: Cursor = None,
) -> Page[FollowUpCallRead]:
    async with sessions() as session:
        rows = await service.list_calls(session=session, case_id=case_id, status=status_filter, limit=limit,
                                        cursor=cursor, held_by=held_by, now=now)
    nxt = encode_cursor(rows[-1].due_at, rows[-1].id) if len(rows) == limit else None
    return Page(items=[read_call(r, now) for r in rows], next_cursor=nxt)


@router.get("/queue", response_model=Page[FollowUpCallRead], summary="S34: the agents' queue of due calls",
            description="Due calls nobody holds, highest priority first (poor receipt rating 3, fix "
                        "confirmation 2, rating call 1), then the longest waiting. Keyset-paginated.")
async def call_queue(principal: Agent, sessions: Sessions, now: Now, limit: PageSize = 50, cursor: Cursor = None,
                region: Annotated[str | None, Query(max_length=64, description="Only this region's calls")] = None,
                ) -> Page[FollowUpCallRead]:
    async with sessions() as session:
        rows = await service.queue(session=session, now=now, limit=limit, cursor=cursor, region=region)
    nxt = service.encode_queue_cursor(rows[-1]) if len(rows) == limit else None
    return Page(items=[read_call(r, now) for r in rows], next_cursor=nxt)


@router.post("/claim-next", response_model=FollowUpCallRead, summary="S34: claim the top of the queue",
             description="Leases the first call of the queue to the agent. 204 when nothing is due. "
                         "Two agents asking at once get different calls.",
             responses={204: {"description": "No call is due"}})
async def claim_next_follow_up_call(body: ClaimCommand, principal: Agent, sessions: Sessions, now: Now,
                                    policy: Policy, response: Response) -> FollowUpCallRead | Response:
    agent = acting_agent(principal, body.agent)
    async with transaction(sessions) as session:
        call = await service.claim_next(session=session, agent=agent, actor=principal.actor, now=now, policy=policy)
    if call is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    response.headers["ETag"] = etag(call.version)
    return read_call(call, now)


@router.get("/{call_id:uuid}", response_model=FollowUpCallDetail,
            summary="One follow-up call with its attempts, survey answers and complaints",
            description="Complaints show the quality issue each became and that issue's state.",
            responses=problem_responses(404))
async def get_call(call_id: UUID, principal: CallReader, sessions: Sessions, now: Now,
                   response: Response) -> FollowUpCallDetail:
    async with sessions() as session:
        call = await service.get(session=session, call_id=call_id)
        attempts = await service.attempts_of(session=session, call_id=call_id)
        answers = await surveys.responses_for_call(session=session, call_id=call_id)
        raised = await complaints.for_call(session=session, call_id=call_id)
    response.headers["ETag"] = etag(call.version)
    return FollowUpCallDetail(
        **read_call(call, now).model_dump(),
        attempts_made=[AttemptRead.model_validate(a) for a in attempts],
        survey_response_ids=[r.id for r in answers],
        complaints=[ComplaintOnCall(complaint_id=c.id, raised_at=c.raised_at, text=c.text, issue_id=c.issue_id,
                                    issue_state=c.issue_state) for c in raised],
    )


@router.post("/{call_id}/claim", response_model=FollowUpCallRead, summary="S34: claim a call (a lease that expires)",
             description="Leases the call to the agent for the configured minutes; claiming again renews it. "
                         "A call another agent holds gives 409 with `held_by` and `lease_expires_at`.",
             responses=problem_responses(404, 409, examples=HELD_BY_ANOTHER))
async def claim_follow_up_call(call_id: UUID, body: ClaimCommand, principal: Agent, sessions: Sessions, now: Now,
                               policy: Policy, response: Response) -> FollowUpCallRead:
    agent = acting_agent(principal, body.agent)
    async with transaction(sessions) as session:
        call = await service.claim(session=session, call_id=call_id, agent=agent, actor=principal.actor, now=now,
                                   policy=policy)
    response.headers["ETag"] = etag(call.version)
    return read_call(call, now)


@router.post("/{call_id}/release", response_model=FollowUpCallRead, summary="Give a held call back to the queue",
             responses=problem_responses(403, 404))
async def release_follow_up_call(call_id: UUID, body: ClaimCommand, principal: Agent, sessions: Sessions,
                                 now: Now) -> FollowUpCallRead:
    agent = acting_agent(principal, body.agent)
    async with transaction(sessions) as session:
        call = await service.release(session=session, call_id=call_id, agent=agent, actor=principal.actor, now=now)
    return read_call(call, now)


@router.post("/{call_id}/attempts", response_model=AttemptRead, status_code=status.HTTP_201_CREATED,
             summary="S34: record an attempt to reach the customer -> FollowUpCallAttempted",
             description="Only the agent holding the call. `no_answer` requeues the call after the retry delay "
                         "(inside the calling window) until the attempts or the retry period are used up, then it "
                         "closes as unreachable (FollowUpCallCompleted); `wrong_number` closes it as unreachable; "
                         "`call_back` requeues it at `call_back_at`; `reached` keeps it with the agent for the "
                         "survey and the outcome. Idempotent with `Idempotency-Key`.",
             responses=problem_responses(403, 404, 409, 412, 428))
async def record_attempt(
    call_id: UUID, body: AttemptCreate, principal: Agent, sessions: Sessions, now: Now, policy: Policy,
    request: Request, response: Response, idempotency_key: IdempotencyKey = None, if_match: IfMatch = None,
) -> Any:
    agent = acting_agent(principal, body.agent)

    async def work(session: AsyncSession) -> dict[str, Any]:
        attempt = await service.record_attempt(session=session, call_id=call_id, command=body, agent=agent,
                                               actor=principal.actor, now=now, policy=policy, if_match=if_match)
        return AttemptRead.model_validate(attempt).model_dump(mode="json")

    return await run_idempotent(sessions=sessions, response=response, principal=principal,
                                key=idempotency_key, status_code=201, work=work)


@router.post("/{call_id}/outcome", response_model=FollowUpCallRead, status_code=status.HTTP_201_CREATED,
             summary="S34: record the call's outcome -> FollowUpCallCompleted",
             description="Only the agent holding the call (403 otherwise). Gate: the customer was reached, and "
                         "for `reached` the survey answers are recorded (409 naming what is missing). The same "
                         "outcome posted twice with one `Idempotency-Key` gives one record.",
             responses=problem_responses(403, 404, 409, 412, 428, examples=OUTCOME_GATE))
async def record_outcome(
    call_id: UUID, body: OutcomeCreate, principal: Agent, sessions: Sessions, now: Now,
    request: Request, response: Response, idempotency_key: IdempotencyKey = None, if_match: IfMatch = None,
) -> Any:
    agent = acting_agent(principal, body.agent)

    async def work(session: AsyncSession) -> dict[str, Any]:
        answered = bool(await surveys.responses_for_call(session=session, call_id=call_id))
        call = await service.record_outcome(session=session, call_id=call_id, command=body, agent=agent,
                                            actor=principal.actor, now=now, survey_answered=answered,
                                            if_match=if_match)
        return read_call(call, now).model_dump(mode="json")

    return await run_idempotent(sessions=sessions, response=response, principal=principal,
                                key=idempotency_key, status_code=201, work=work)
