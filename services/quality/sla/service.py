"""SLA operations: targets per severity, clocks on issues, pause/resume and the periodic check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.events import emit
from services.quality.issues.models import IssueJournalEntry, QualityIssue, SlaClockRead, SlaRead
from services.quality.sla.domain import SlaClock, resumed
from services.quality.sla.models import SlaTarget, SlaTargetUpdate
from shared.api.auth import Principal
from shared.api.concurrency import check_if_match
from shared.api.problems import Conflict
from shared.api.resources import bump_version
from shared.clock import utcnow
from shared.db import transaction
from shared.events.quality import IssueSlaBreached, IssueSlaWarning
from shared.messages import msg

if TYPE_CHECKING:
    from shared.api.app import ServiceRuntime

SYSTEM_ACTOR = "quality-sla-clock"
# Used only if no target row exists for a severity (the migration seeds all three).
FALLBACK_MINUTES = {"critical": (240, 4320), "major": (1440, 14400), "minor": (4320, 43200)}


async def list_targets(*, session: AsyncSession) -> list[SlaTarget]:
    return list((await session.execute(select(SlaTarget).order_by(col(SlaTarget.severity)))).scalars())


async def set_target(*, session: AsyncSession, severity: str, body: SlaTargetUpdate, principal: Principal,
                     if_match: str | None) -> SlaTarget:
    """Configure the targets of a severity; they apply to issues logged from now on."""
    target = (await session.execute(select(SlaTarget).where(col(SlaTarget.severity) == severity)
                                    .with_for_update())).scalar_one_or_none()
    if target is None:
        target = SlaTarget(severity=severity, **body.model_dump(), updated_at=utcnow(), updated_by=principal.actor)
        session.add(target)
        return target
    check_if_match(if_match, target.version)
    for name, value in body.model_dump().items():
        setattr(target, name, value)
    bump_version(target, principal.actor)
    return target


def _clock(issue: QualityIssue, which: str) -> SlaClock:
    minutes = issue.response_target_minutes if which == "response" else issue.resolution_target_minutes
    stopped = issue.responded_at if which == "response" else issue.closed_at
    return SlaClock(started_at=issue.created_at, target=timedelta(minutes=minutes),
                    warning_percent=issue.sla_warning_percent,
                    paused_for=timedelta(seconds=issue.sla_paused_seconds),
                    paused_since=issue.sla_paused_since if stopped is None else None, stopped_at=stopped)


def _refresh_due(issue: QualityIssue) -> None:
    issue.response_due_at = _clock(issue, "response").due_at
    issue.resolution_due_at = _clock(issue, "resolution").due_at


async def start_clocks(*, session: AsyncSession, issue: QualityIssue) -> None:
    """Snapshot the severity's targets onto a newly logged issue and set its deadlines."""
    target = await session.get(SlaTarget, issue.severity)
    if target is None:
        response, resolution = FALLBACK_MINUTES[issue.severity]
        warning = 80
    else:
        response, resolution, warning = target.response_minutes, target.resolution_minutes, target.warning_percent
    issue.response_target_minutes, issue.resolution_target_minutes = response, resolution
    issue.sla_warning_percent = warning
    _refresh_due(issue)


def stop_response_clock(issue: QualityIssue, at: datetime) -> None:
    """The response clock stops when the issue is escalated or fixed on site."""
    if issue.responded_at is None:
        issue.responded_at = at


def view(issue: QualityIssue, now: datetime) -> SlaRead:
    """The SLA block shown on the issue."""
    response, resolution = _clock(issue, "response"), _clock(issue, "resolution")
    return SlaRead(
        paused=issue.sla_paused_since is not None, paused_since=issue.sla_paused_since,
        response=SlaClockRead(due_at=response.due_at, state=response.state(now),
                              warned_at=issue.response_warned_at, breached_at=issue.response_breached_at),
        resolution=SlaClockRead(due_at=resolution.due_at, state=resolution.state(now),
                                warned_at=issue.resolution_warned_at, breached_at=issue.resolution_breached_at),
    )


def pause(issue: QualityIssue, *, reason: str, at: datetime) -> dict[str, str]:
    """Stop the clocks while waiting for the customer."""
    if issue.sla_paused_since is not None:
        raise Conflict(msg("the SLA clocks of this issue are already paused"))
    if issue.closed_at is not None:
        raise Conflict(msg("the issue is closed; its clocks have stopped"))
    issue.sla_paused_since = at
    return {"reason": reason}


def resume(issue: QualityIssue, *, at: datetime) -> dict[str, object]:
    """Restart the clocks; the deadlines move by the time spent paused."""
    if issue.sla_paused_since is None:
        raise Conflict(msg("the SLA clocks of this issue are not paused"))
    total = resumed(timedelta(seconds=issue.sla_paused_seconds), issue.sla_paused_since, at)
    paused_for = int(total.total_seconds()) - issue.sla_paused_seconds
    issue.sla_paused_seconds = int(total.total_seconds())
    issue.sla_paused_since = None
    _refresh_due(issue)
    return {"paused_seconds": paused_for}


async def check_clocks(*, session: AsyncSession, now: datetime) -> int:
    """Warn before and breach at the deadlines of open, running clocks; each fact is emitted once.

    Returns how many warnings and breaches were recorded.
    """
    stmt = (select(QualityIssue).where(
        col(QualityIssue.sla_paused_since).is_(None), col(QualityIssue.closed_at).is_(None),
        or_(col(QualityIssue.response_breached_at).is_(None) & col(QualityIssue.responded_at).is_(None),
            col(QualityIssue.resolution_breached_at).is_(None)))
        .order_by(col(QualityIssue.created_at)).with_for_update(skip_locked=True).limit(500))
    recorded = 0
    for issue in (await session.execute(stmt)).scalars():
        for which in ("response", "resolution"):
            recorded += _check_one(session, issue, which, now)
    return recorded


def _check_one(session: AsyncSession, issue: QualityIssue, which: str, now: datetime) -> int:
    clock = _clock(issue, which)
    state = clock.state(now)
    warned, breached = f"{which}_warned_at", f"{which}_breached_at"
    if clock.stopped_at is not None or getattr(issue, breached) is not None:
        return 0
    payload: IssueSlaBreached | IssueSlaWarning
    if state == "breached":
        setattr(issue, breached, now)
        kind, payload = "sla_breached", IssueSlaBreached(issue_id=issue.id, case_id=issue.case_id, clock=which,
                                                         due_at=clock.due_at)
    elif state == "warning" and getattr(issue, warned) is None:
        setattr(issue, warned, now)
        kind, payload = "sla_warning", IssueSlaWarning(issue_id=issue.id, case_id=issue.case_id, clock=which,
                                                       due_at=clock.due_at)
    else:
        return 0
    session.add(IssueJournalEntry(issue_id=issue.id, kind=kind, at=now, by=SYSTEM_ACTOR,
                                  data={"clock": which, "due_at": clock.due_at.isoformat()}))
    bump_version(issue, SYSTEM_ACTOR, at=now)
    emit(session, payload, case_id=issue.case_id, actor=SYSTEM_ACTOR)
    return 1


async def run_sla_check(sessions: async_sessionmaker[AsyncSession],
                        clock: Callable[[], datetime] = utcnow) -> int:
    """One pass of the SLA check in its own unit of work; `clock` is injectable for tests."""
    async with transaction(sessions) as session:
        return await check_clocks(session=session, now=clock())


async def sla_clock_job(runtime: ServiceRuntime) -> None:
    """Periodic job of the service (see main.py)."""
    await run_sla_check(runtime.sessions)

