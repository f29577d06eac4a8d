"""Follow-up call operations (S34): plain async functions on a session, never committing themselves."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.feedback.calls import domain
from services.feedback.calls.domain import AfterAttempt, AttemptResult, CallingWindow, CallReason, RetryRules
from services.feedback.calls.models import (
    AttemptCreate,
    CallStatus,
    FollowUpCall,
    FollowUpCallAttempt,
    OutcomeCreate,
)
from services.feedback.events import emit
from services.feedback.settings import FeedbackSettings
from shared.api.concurrency import check_if_match
from shared.api.pagination import decode_cursor
from shared.api.problems import Conflict, InvalidInput
from shared.api.resources import bump_version, get_or_404
from shared.events import EventEnvelope
from shared.events.feedback import FollowUpCallAttempted, FollowUpCallCompleted, FollowUpCallScheduled
from shared.events.onsite import ServiceCompleted
from shared.events.quality import IssueClosed
from shared.messages import msg

SERVICE_ACTOR = "service:feedback"


@dataclass(frozen=True)
class CallPolicy:
    """The configurable rules of S34 calls: delays, calling window, lease and retries."""

    delay_business_days: int
    fix_confirmation_delay_business_days: int
    window: CallingWindow
    lease: timedelta
    retries: RetryRules

    @classmethod
    def from_settings(cls, s: FeedbackSettings) -> CallPolicy:
        return cls(
            delay_business_days=s.follow_up_delay_business_days,
            fix_confirmation_delay_business_days=s.fix_confirmation_delay_business_days,
            window=CallingWindow(s.calling_window_start, s.calling_window_end, ZoneInfo(s.calling_timezone),
                                 frozenset(s.calling_weekdays)),
            lease=timedelta(minutes=s.follow_up_lease_minutes),
            retries=RetryRules(s.follow_up_max_attempts, timedelta(minutes=s.follow_up_retry_after_minutes),
                               timedelta(hours=s.follow_up_give_up_after_hours)),
        )


# --- Scheduling (from events) ------------------------------------------------------------------


def _schedule(session: AsyncSession, call: FollowUpCall, *, issue_id: UUID | None = None) -> FollowUpCall:
    session.add(call)
    emit(session, FollowUpCallScheduled(call_id=call.id, case_id=call.case_id, reason=call.reason,
                                        due_at=call.due_at), case_id=call.case_id, actor=SERVICE_ACTOR)
    return call


async def schedule_after_service(
    *, session: AsyncSession, envelope: EventEnvelope, event: ServiceCompleted, policy: CallPolicy, now: datetime
) -> FollowUpCall | None:
    """S34: a completed service puts a rating call in the call centre's queue (once per visit)."""
    existing = await session.execute(select(col(FollowUpCall.id)).where(
        col(FollowUpCall.case_id) == event.case_id, col(FollowUpCall.reason) == CallReason.SERVICE_COMPLETED,
        or_(col(FollowUpCall.visit_id) == event.visit_id, col(FollowUpCall.source_event_id) == envelope.id)))
    if existing.first() is not None:
        return None  # the same completion again under another event id
    reason = CallReason.SERVICE_COMPLETED
    return _schedule(session, FollowUpCall(
        case_id=event.case_id, reason=reason, source_event_id=envelope.id, visit_id=event.visit_id,
        due_at=domain.schedule_due_at(event.completed_at, policy.delay_business_days, policy.window),
        priority=domain.call_priority(reason, event.receipt_rating),
        customer_name=event.customer_name, region=event.region, equipment_type=event.equipment_type,
        engineer_ids=event.engineer_ids, completed_at=event.completed_at, receipt_rating=event.receipt_rating,
        created_at=now,
    ))


async def schedule_fix_confirmation(
    *, session: AsyncSession, envelope: EventEnvelope, event: IssueClosed, policy: CallPolicy, now: datetime
) -> FollowUpCall | None:
    """S34 / S25: a closed customer-visible issue: the call centre confirms the fix with the customer."""
    if not event.customer_visible:
        return None
    open_call = await session.execute(select(col(FollowUpCall.id)).where(
        col(FollowUpCall.issue_id) == event.issue_id, col(FollowUpCall.reason) == CallReason.ISSUE_CLOSED,
        or_(col(FollowUpCall.status) == CallStatus.SCHEDULED, col(FollowUpCall.source_event_id) == envelope.id)))
    if open_call.first() is not None:
        return None
    # Customer details come from the case's rating call when feedback already knows the case.
    known = (await session.execute(select(FollowUpCall).where(col(FollowUpCall.case_id) == event.case_id)
                                   .order_by(col(FollowUpCall.created_at)).limit(1))).scalar_one_or_none()
    reason = CallReason.ISSUE_CLOSED
    return _schedule(session, FollowUpCall(
        case_id=event.case_id, reason=reason, source_event_id=envelope.id, issue_id=event.issue_id,
        due_at=domain.schedule_due_at(envelope.time, policy.fix_confirmation_delay_business_days, policy.window),
        priority=domain.call_priority(reason, None),
        customer_name=event.customer_name or (known.customer_name if known else ""),
        region=event.region or (known.region if known else ""),
        equipment_type=known.equipment_type if known else "",
        engineer_ids=list(known.engineer_ids) if known else [],
        completed_at=known.completed_at if known else None, visit_id=known.visit_id if known else None,
        created_at=now,
    ))


# --- Reading -------------------------------------------------------------------------------------


async def get(*, session: AsyncSession, call_id: UUID, for_update: bool = False) -> FollowUpCall:
    return await get_or_404(session, FollowUpCall, call_id, what=msg("follow-up call"), for_update=for_update)


async def attempts_of(*, session: AsyncSession, call_id: UUID) -> list[FollowUpCallAttempt]:
    stmt = select(FollowUpCallAttempt).where(col(FollowUpCallAttempt.call_id) == call_id).order_by(
        col(FollowUpCallAttempt.number))
    return list((await session.execute(stmt)).scalars())


async def list_calls(
    *, session: AsyncSession, case_id: UUID | None, status: CallStatus | None, limit: int, cursor: str | None,
    held_by: str | None = None, now: datetime | None = None,
) -> list[FollowUpCall]:
    """Every call, earliest due first, keyset-paginated on (due_at, id); `held_by` an agent's running leases."""
    stmt = select(FollowUpCall)
    if held_by is not None and now is not None:
        stmt = stmt.where(col(FollowUpCall.claimed_by) == held_by, col(FollowUpCall.lease_expires_at) > now)
    if case_id is not None:
        stmt = stmt.where(col(FollowUpCall.case_id) == case_id)
    if status is not None:
        stmt = stmt.where(col(FollowUpCall.status) == status)
    if cursor is not None:
        due, last_id = decode_cursor(cursor)
        stmt = stmt.where(or_(col(FollowUpCall.due_at) > due,
                              and_(col(FollowUpCall.due_at) == due, col(FollowUpCall.id) > last_id)))
    stmt = stmt.order_by(col(FollowUpCall.due_at), col(FollowUpCall.id)).limit(limit)
    return list((await session.execute(stmt)).scalars())


def encode_queue_cursor(call: FollowUpCall) -> str:
    raw = json.dumps([call.priority, call.due_at.isoformat(), str(call.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_queue_cursor(cursor: str) -> tuple[int, datetime, UUID]:
    try:
        priority, due, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(priority), datetime.fromisoformat(due), UUID(row_id)
    except Exception:
        raise InvalidInput(msg("cursor is not valid"), field="cursor") from None


def queue_stmt(now: datetime) -> Select[FollowUpCall]:
    """Due, scheduled calls nobody holds (the agents' queue, unordered)."""
    unheld = or_(col(FollowUpCall.lease_expires_at).is_(None), col(FollowUpCall.lease_expires_at) <= now)
    return select(FollowUpCall).where(col(FollowUpCall.status) == CallStatus.SCHEDULED,
                                      col(FollowUpCall.due_at) <= now, unheld)


async def queue(*, session: AsyncSession, now: datetime, limit: int, cursor: str | None,
                region: str | None = None) -> list[FollowUpCall]:
    """The agents' queue: due calls nobody holds, highest priority first, then the oldest due."""
    stmt = queue_stmt(now)
    if region is not None:
        stmt = stmt.where(col(FollowUpCall.region) == region)
    if cursor is not None:
        p, due, last_id = _decode_queue_cursor(cursor)
        stmt = stmt.where(or_(
            col(FollowUpCall.priority) < p,
            and_(col(FollowUpCall.priority) == p, or_(
                col(FollowUpCall.due_at) > due, and_(col(FollowUpCall.due_at) == due, col(FollowUpCall.id) > last_id))),
        ))
    stmt = stmt.order_by(col(FollowUpCall.priority).desc(), col(FollowUpCall.due_at), col(FollowUpCall.id)).limit(limit)
    return list((await session.execute(stmt)).scalars())


# --- Claims --------------------------------------------------------------------------------------


def _touch(call: FollowUpCall, actor: str, now: datetime) -> None:
    bump_version(call, actor, at=now)


def _lease(call: FollowUpCall, agent: str, actor: str, now: datetime, policy: CallPolicy) -> FollowUpCall:
    if domain.current_holder(call.claimed_by, call.lease_expires_at, now) != agent:
        call.claimed_at = now
    call.claimed_by = agent
    call.lease_expires_at = now + policy.lease
    _touch(call, actor, now)
    return call


async def claim(*, session: AsyncSession, call_id: UUID, agent: str, actor: str, now: datetime,
                policy: CallPolicy) -> FollowUpCall:
    """S34: take (or renew) the lease on a due call; refused with its holder while another holds it."""
    call = await get(session=session, call_id=call_id, for_update=True)
    holder = domain.current_holder(call.claimed_by, call.lease_expires_at, now)
    domain.check_claim(status=call.status, due_at=call.due_at, holder=holder, lease_expires_at=call.lease_expires_at,
                       agent=agent, now=now)
    return _lease(call, agent, actor, now, policy)


async def claim_next(*, session: AsyncSession, agent: str, actor: str, now: datetime,
                     policy: CallPolicy) -> FollowUpCall | None:
    """The top of the queue, leased to `agent`; concurrent callers skip each other's row."""
    stmt = (queue_stmt(now).order_by(col(FollowUpCall.priority).desc(), col(FollowUpCall.due_at), col(FollowUpCall.id))
            .limit(1).with_for_update(skip_locked=True))
    call = (await session.execute(stmt)).scalar_one_or_none()
    return None if call is None else _lease(call, agent, actor, now, policy)


async def release(*, session: AsyncSession, call_id: UUID, agent: str, actor: str, now: datetime) -> FollowUpCall:
    """Give a held call back to the queue."""
    call = await get(session=session, call_id=call_id, for_update=True)
    domain.check_holds(holder=domain.current_holder(call.claimed_by, call.lease_expires_at, now), agent=agent)
    call.claimed_by = call.claimed_at = call.lease_expires_at = None
    _touch(call, actor, now)
    return call


async def held_call(*, session: AsyncSession, call_id: UUID, agent: str, now: datetime,
                    if_match: str | None = None) -> FollowUpCall:
    """The call, locked, if `agent` holds its lease (403 otherwise) and it is still open (409)."""
    call = await get(session=session, call_id=call_id, for_update=True)
    if call.status != CallStatus.SCHEDULED:
        raise Conflict(msg("the call is already {status}", status=call.status), status_of_call=call.status)
    domain.check_holds(holder=domain.current_holder(call.claimed_by, call.lease_expires_at, now), agent=agent)
    check_if_match(if_match, call.version)
    return call


# --- Attempts, outcome, closing ---------------------------------------------------------------------


def _close(session: AsyncSession, call: FollowUpCall, *, status: CallStatus, outcome: str, agent: str | None,
           actor: str, now: datetime, note: str | None = None) -> None:
    call.status = status
    call.outcome = outcome
    call.outcome_note = note
    call.closed_at = now
    call.closed_by = actor
    call.claimed_by = call.claimed_at = call.lease_expires_at = None
    _touch(call, actor, now)
    emit(session, FollowUpCallCompleted(call_id=call.id, case_id=call.case_id, outcome=outcome,
                                        attempts=call.attempts, agent=agent), case_id=call.case_id, actor=actor)


async def record_attempt(
    *, session: AsyncSession, call_id: UUID, command: AttemptCreate, agent: str, actor: str, now: datetime,
    policy: CallPolicy, if_match: str | None = None,
) -> FollowUpCallAttempt:
    """S34: one attempt -> FollowUpCallAttempted; the retry rules then requeue or close the call."""
    call = await held_call(session=session, call_id=call_id, agent=agent, now=now, if_match=if_match)
    if call.reached_at is not None:
        raise Conflict(msg("the customer was already reached on this call; record the outcome"))
    result = AttemptResult(command.result)
    call.attempts += 1
    call.first_attempt_at = call.first_attempt_at or now
    if result is AttemptResult.NO_ANSWER:
        call.unanswered_attempts += 1
    decision = domain.decide_after_attempt(
        result=result, unanswered=call.unanswered_attempts, first_attempt_at=call.first_attempt_at, now=now,
        call_back_at=command.call_back_at, rules=policy.retries, window=policy.window)
    attempt = FollowUpCallAttempt(call_id=call.id, number=call.attempts, result=result, agent=agent,
                                  attempted_at=now, call_back_at=command.call_back_at, note=command.note,
                                  created_by=actor)
    session.add(attempt)
    emit(session, FollowUpCallAttempted(call_id=call.id, case_id=call.case_id, attempt=call.attempts,
                                        result=result.value, agent=agent), case_id=call.case_id, actor=actor)
    if decision.action is AfterAttempt.HOLD:
        call.reached_at = now
        _touch(call, actor, now)
    elif decision.action is AfterAttempt.RETRY:
        assert decision.next_due_at is not None
        call.due_at = decision.next_due_at
        call.claimed_by = call.claimed_at = call.lease_expires_at = None
        _touch(call, actor, now)
    else:
        _close(session, call, status=CallStatus.UNREACHABLE, outcome="unreachable", agent=agent, actor=actor,
               now=now, note=decision.reason)
    return attempt


async def record_outcome(
    *, session: AsyncSession, call_id: UUID, command: OutcomeCreate, agent: str, actor: str, now: datetime,
    survey_answered: bool, if_match: str | None = None,
) -> FollowUpCall:
    """S34: the call's outcome -> FollowUpCallCompleted (gate: reached, and answered unless declined)."""
    call = await held_call(session=session, call_id=call_id, agent=agent, now=now, if_match=if_match)
    domain.check_outcome_gate(reached=call.reached_at is not None, survey_answered=survey_answered,
                              outcome=command.outcome)
    _close(session, call, status=CallStatus.COMPLETED, outcome=command.outcome, agent=agent, actor=actor, now=now,
           note=command.note)
    return call


def complete_by_customer_answer(session: AsyncSession, call: FollowUpCall, *, actor: str, now: datetime) -> bool:
    """S34: the customer answered through the link: no need to phone them. A call an agent holds
    right now is left to that agent (the answers satisfy the outcome gate)."""
    if call.status != CallStatus.SCHEDULED or domain.current_holder(call.claimed_by, call.lease_expires_at, now):
        return False
    _close(session, call, status=CallStatus.COMPLETED, outcome="reached", agent=None, actor=actor, now=now,
           note="the customer answered through the survey link")
    return True


async def sweep(*, session: AsyncSession, now: datetime, policy: CallPolicy) -> dict[str, int]:
    """Periodic S34 check: free expired leases, close calls whose retry period is over as unreachable."""
    expired = list((await session.execute(select(FollowUpCall).where(
        col(FollowUpCall.status) == CallStatus.SCHEDULED, col(FollowUpCall.lease_expires_at) <= now,
    ).with_for_update(skip_locked=True))).scalars())
    for call in expired:
        call.claimed_by = call.claimed_at = call.lease_expires_at = None
        _touch(call, SERVICE_ACTOR, now)
    tried = list((await session.execute(select(FollowUpCall).where(
        col(FollowUpCall.status) == CallStatus.SCHEDULED, col(FollowUpCall.first_attempt_at).is_not(None),
        col(FollowUpCall.reached_at).is_(None), col(FollowUpCall.due_at) <= now,
        or_(col(FollowUpCall.lease_expires_at).is_(None), col(FollowUpCall.lease_expires_at) <= now),
    ).with_for_update(skip_locked=True))).scalars())
    unreachable = 0
    for call in tried:
        if domain.retry_period_over(first_attempt_at=call.first_attempt_at, now=now, rules=policy.retries):
            _close(session, call, status=CallStatus.UNREACHABLE, outcome="unreachable", agent=None,
                   actor=SERVICE_ACTOR, now=now, note="retry period over")
            unreachable += 1
    due = (await session.execute(select(func.count()).select_from(queue_stmt(now).subquery()))).scalar_one()
    return {"leases_expired": len(expired), "closed_unreachable": unreachable, "due": due}
