"""Quality-issue operations (S25, S34): plain async functions on a session, never committing themselves."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.quality.catalogue.service import require_known
from services.quality.events import emit
from services.quality.issues import domain
from services.quality.issues.domain import Stage
from services.quality.issues.models import (
    CaseTeam,
    Closure,
    Containment,
    CorrectiveAction,
    Escalation,
    IssueCorrection,
    IssueJournalEntry,
    IssueStatus,
    OnSiteResolution,
    PreventiveAction,
    QualityIssue,
    QualityIssueCreate,
    Reopen,
    RootCause,
    Verification,
)
from services.quality.sla import service as sla
from shared.api.auth import Principal, Role
from shared.api.concurrency import check_if_match
from shared.api.pagination import keyset_page, where_given
from shared.api.problems import Forbidden, InvalidInput, NotFound
from shared.api.resources import bump_version, get_or_404
from shared.clock import utcnow
from shared.events.dispatch import ServiceDispatched, SpecificationTemplateRevised
from shared.events.feedback import ComplaintRaised
from shared.events.onsite import ProcessDataRecorded
from shared.events.quality import (
    CorrectiveActionDefined,
    IssueClosed,
    IssueContained,
    IssueEscalated,
    IssueLogged,
    IssueReopened,
    IssueResolvedOnSite,
    IssueVerified,
    PreventiveActionDefined,
    RootCauseIdentified,
)
from shared.messages import msg

COMPLAINT_FAILURE_MODE = "customer-complaint"
OUT_OF_LIMITS_FAILURE_MODE = "out-of-limits"
# The same limits as when the issue is logged (QualityIssueCreate).
CORRECTION_LIMITS = {"product": 200, "model": 100, "serial_number": 100, "failure_mode": 100, "severity": 16,
                     "description": 8000}


def journal(session: AsyncSession, issue: QualityIssue, kind: str, data: dict[str, Any], *, by: str,
            at: datetime) -> None:
    """Append to the issue's history and bump its version (the issue itself is never deleted)."""
    session.add(IssueJournalEntry(issue_id=issue.id, kind=kind, data=data, at=at, by=by))
    bump_version(issue, by, at=at)


# ---- teams (from dispatch) and object-level access -------------------------------------------

async def remember_team(*, session: AsyncSession, event: ServiceDispatched) -> None:
    team = await session.get(CaseTeam, event.case_id)
    ids = [m.engineer_id for m in event.team]
    if team is None:
        session.add(CaseTeam(case_id=event.case_id, engineer_ids=ids, region=event.region,
                             customer_name=event.customer_name))
    else:
        team.engineer_ids = sorted(set(team.engineer_ids) | set(ids))
        team.customer_name = event.customer_name


def _is_staff(principal: Principal) -> bool:
    return principal.has(Role.QUALITY_ENGINEER, Role.ADMIN, Role.DISPATCHER, Role.DEPARTMENT_HEAD)


async def _require_on_case(session: AsyncSession, principal: Principal, case_id: UUID) -> None:
    """An engineer logs and reads issues only on cases they are assigned to; another engineer's case
    answers 404 as in every service, so its existence does not leak."""
    if _is_staff(principal):
        return
    team = await session.get(CaseTeam, case_id)
    if team is None or principal.subject not in team.engineer_ids:
        raise NotFound(msg("service case {case_id} does not exist", case_id=case_id))


def _require_mover(issue: QualityIssue, principal: Principal) -> None:
    """Quality owners move only issues assigned to them or their unit; others of the role get 403."""
    if issue.owner is None and issue.responsible_unit is None:
        return  # not yet assigned: any quality engineer may act (escalation assigns it)
    if not domain.may_move(subject=principal.subject, unit=principal.unit, is_admin=principal.has(Role.ADMIN),
                           owner=issue.owner, responsible_unit=issue.responsible_unit):
        raise Forbidden(msg("quality issue {id} is assigned to {owner} of unit {responsible_unit}; only its owner or "
            "a quality engineer of that unit may move it",
            id=issue.id, owner=issue.owner, responsible_unit=issue.responsible_unit))


async def _locked(session: AsyncSession, principal: Principal, issue_id: UUID, if_match: str | None) -> QualityIssue:
    """The issue, row-locked for a change; 404 if absent or not visible, 412 if If-Match is stale."""
    issue = await get(session=session, issue_id=issue_id, principal=principal, for_update=True)
    check_if_match(if_match, issue.version)
    return issue


# ---- register (S25) and complaints (S34) ------------------------------------------------------

def _logged_event(issue: QualityIssue) -> IssueLogged:
    return IssueLogged(
        issue_id=issue.id, case_id=issue.case_id, visit_id=issue.visit_id, product=issue.product,
        model=issue.model, serial_number=issue.serial_number, failure_mode=issue.failure_mode,
        severity=issue.severity, description=issue.description, source=issue.source,
        logged_by=issue.logged_by, customer_visible=issue.customer_visible, complaint_id=issue.complaint_id,
    )


async def log_issue(*, session: AsyncSession, body: QualityIssueCreate, principal: Principal) -> QualityIssue:
    """S25: register the problem first; IssueLogged tells the visit and the case record."""
    await _require_on_case(session, principal, body.case_id)
    await require_known(session=session, code=body.failure_mode)
    now = utcnow()
    issue = QualityIssue(**body.model_dump(), logged_by=principal.subject, created_at=now, updated_at=now,
                         updated_by=principal.actor)
    await sla.start_clocks(session=session, issue=issue)
    session.add(issue)
    await session.flush()
    session.add(IssueJournalEntry(issue_id=issue.id, kind="logged", data=body.model_dump(mode="json"), at=now,
                                  by=principal.actor))
    emit(session, _logged_event(issue), case_id=issue.case_id, actor=principal.actor)
    return issue


async def log_complaint(*, session: AsyncSession, event: ComplaintRaised, actor: str) -> QualityIssue | None:
    """S34: a complaint from the follow-up call becomes an issue with source `complaint` (once per complaint)."""
    existing = (await session.execute(select(col(QualityIssue.id))
                                      .where(col(QualityIssue.complaint_id) == event.complaint_id))).first()
    if existing is not None:
        return None
    now = utcnow()
    severity = "major" if event.score is not None and event.score <= 2 else "minor"
    issue = QualityIssue(
        case_id=event.case_id, product=event.product or "unspecified", failure_mode=COMPLAINT_FAILURE_MODE,
        severity=severity, description=event.text, source="complaint", complaint_id=event.complaint_id,
        logged_by=event.raised_by, created_at=now, updated_at=now, updated_by=actor,
    )
    await sla.start_clocks(session=session, issue=issue)
    session.add(issue)
    await session.flush()
    session.add(IssueJournalEntry(issue_id=issue.id, kind="logged", at=now, by=actor, data={
        "source": "complaint", "complaint_id": str(event.complaint_id), "score": event.score}))
    emit(session, _logged_event(issue), case_id=issue.case_id, actor=actor)
    return issue


def measurement_ref(event: ProcessDataRecorded) -> str:
    return f"{event.visit_id}/{event.task_id}/{event.item_id}"


async def log_failed_value(*, session: AsyncSession, event: ProcessDataRecorded, actor: str) -> QualityIssue | None:
    """S13/S25: a value measured on site outside its limits is registered as an issue (once per entry);
    a later failed reading of the same entry goes into that issue's history. Passing readings change nothing."""
    if event.passed:
        return None
    reading = {"reading_id": str(event.reading_id) if event.reading_id else None, "value": event.value,
               "unit": event.unit, "recorded_by": event.recorded_by, "lower_limit": event.lower_limit,
               "upper_limit": event.upper_limit}
    now = utcnow()
    ref = measurement_ref(event)
    existing = (await session.execute(select(QualityIssue).where(col(QualityIssue.measurement_ref) == ref)
                                      .with_for_update())).scalar_one_or_none()
    if existing is not None:
        journal(session, existing, "failed_reading", reading, by=actor, at=now)
        return None
    issue = QualityIssue(
        case_id=event.case_id, visit_id=event.visit_id, product=event.equipment_type or "unspecified",
        failure_mode=OUT_OF_LIMITS_FAILURE_MODE, severity="major", description=domain.failed_value_description(
            task=event.task_title, item_id=event.item_id, item_text=event.item_text, value=event.value,
            unit=event.unit, lower=event.lower_limit, upper=event.upper_limit),
        source="onsite", measurement_ref=ref, logged_by=event.recorded_by, created_at=now, updated_at=now,
        updated_by=actor,
    )
    await sla.start_clocks(session=session, issue=issue)
    session.add(issue)
    await session.flush()
    session.add(IssueJournalEntry(issue_id=issue.id, kind="logged", at=now, by=actor, data={
        "source": "measurement", "measurement_ref": ref, **reading}))
    emit(session, _logged_event(issue), case_id=issue.case_id, actor=actor)
    return issue


async def correct(*, session: AsyncSession, issue_id: UUID, body: IssueCorrection, principal: Principal,
                  if_match: str | None) -> QualityIssue:
    """A correction of a registered fact: a new journal entry with the old and new value."""
    issue = await _locked(session, principal, issue_id, if_match)
    if len(body.value) > CORRECTION_LIMITS[body.field]:
        raise InvalidInput(msg("{field} may have at most {correction_limits} characters",
            field=body.field, correction_limits=CORRECTION_LIMITS[body.field]),
                           errors=[{"field": "value", "message": msg("too long for {field}", field=body.field)}])
    if body.field == "failure_mode":
        await require_known(session=session, code=body.value)
    if body.field == "severity" and body.value not in ("critical", "major", "minor"):
        raise InvalidInput(msg("unknown severity {value!r}", value=body.value), errors=[{"field": "value", "message":
                                                                          msg("one of critical, major, minor")}])
    old = getattr(issue, body.field)
    setattr(issue, body.field, body.value)
    journal(session, issue, "corrected", {"field": body.field, "old": old, "new": body.value,
                                          "reason": body.reason}, by=principal.actor, at=utcnow())
    return issue


# ---- the two paths (S25) ---------------------------------------------------------------------

async def resolve_on_site(*, session: AsyncSession, issue_id: UUID, body: OnSiteResolution,
                          principal: Principal, if_match: str | None) -> QualityIssue:
    """S25: fixed on site, confirmed by the customer -> IssueResolvedOnSite."""
    issue = await _locked(session, principal, issue_id, if_match)
    domain.on_site_resolution_gate(issue.status)
    now = utcnow()
    record = {**body.model_dump(mode="json"), "recorded_by": principal.actor,
              "confirmed_at": (body.confirmed_at or now).isoformat()}
    issue.on_site_resolution = record
    issue.status = IssueStatus.RESOLVED_ON_SITE
    if issue.sla_paused_since is not None:
        sla.resume(issue, at=now)
    sla.stop_response_clock(issue, now)
    issue.closed_at, issue.closed_by = now, principal.subject
    journal(session, issue, "resolved_on_site", record, by=principal.actor, at=now)
    emit(session, IssueResolvedOnSite(issue_id=issue.id, case_id=issue.case_id, resolution=body.resolution,
                                      resolved_by=body.resolved_by, customer_confirmed_by=body.customer_confirmed_by),
         case_id=issue.case_id, actor=principal.actor)
    return issue


async def escalate(*, session: AsyncSession, issue_id: UUID, body: Escalation, principal: Principal,
                   if_match: str | None) -> QualityIssue:
    """S25: sent to the company's closed loop: responsible unit, owner, due date from the SLA."""
    issue = await _locked(session, principal, issue_id, if_match)
    domain.escalation_gate(issue.status)
    now = utcnow()
    issue.responsible_unit, issue.owner = body.responsible_unit, body.owner
    issue.status = IssueStatus.ESCALATED
    sla.stop_response_clock(issue, now)
    due_at = sla.view(issue, now).resolution.due_at
    assert due_at is not None
    journal(session, issue, "escalated", {**body.model_dump(), "due_at": due_at.isoformat()},
            by=principal.actor, at=now)
    emit(session, IssueEscalated(issue_id=issue.id, case_id=issue.case_id, responsible_unit=body.responsible_unit,
                                 owner=body.owner, due_at=due_at), case_id=issue.case_id, actor=principal.actor)
    return issue


# ---- the closed loop (S25) -------------------------------------------------------------------

async def record_stage(*, session: AsyncSession, issue_id: UUID, stage: Stage,
                       body: Containment | RootCause | CorrectiveAction | PreventiveAction | Verification,
                       principal: Principal, if_match: str | None) -> QualityIssue:
    """Record one stage of the closed loop; refused (naming what is missing) if it skips a stage."""
    issue = await _locked(session, principal, issue_id, if_match)
    _require_mover(issue, principal)
    domain.stage_gate(issue.status, issue.loop, stage)
    now = utcnow()
    record = {**body.model_dump(mode="json", exclude_none=True), "by": principal.subject, "at": now.isoformat()}
    record.setdefault("owner", issue.owner)
    issue.loop = domain.record_stage(issue.loop, stage, record)
    issue.status = domain.STATUS_AFTER[stage]
    journal(session, issue, stage.value, record, by=principal.actor, at=now)
    emit(session, _stage_event(issue, stage, body, principal), case_id=issue.case_id, actor=principal.actor)
    return issue


def _stage_event(issue: QualityIssue, stage: Stage, body: Any, principal: Principal) -> Any:
    ids = {"issue_id": issue.id, "case_id": issue.case_id}
    by = principal.subject
    match stage:
        case Stage.CONTAINMENT:
            return IssueContained(**ids, action=body.action, by=by)
        case Stage.ROOT_CAUSE:
            return RootCauseIdentified(**ids, method=body.method, root_cause=body.root_cause, by=by)
        case Stage.CORRECTIVE_ACTION:
            return CorrectiveActionDefined(**ids, action=body.action, owner=body.owner, by=by)
        case Stage.PREVENTIVE_ACTION:
            return PreventiveActionDefined(**ids, action=body.action, owner=body.owner, by=by,
                                           template_id=body.template_id, equipment_type=body.equipment_type,
                                           revision_note=body.revision_note)
        case Stage.VERIFICATION:
            return IssueVerified(**ids, evidence=body.evidence, effective=body.effective, by=by)


async def close(*, session: AsyncSession, issue_id: UUID, body: Closure, principal: Principal,
                if_match: str | None) -> QualityIssue:
    """Close the loop: refused without root cause, corrective and preventive action and a positive verification."""
    issue = await _locked(session, principal, issue_id, if_match)
    _require_mover(issue, principal)
    domain.closure_gate(issue.status, issue.loop)
    now = utcnow()
    issue.status = IssueStatus.CLOSED
    issue.closed_at, issue.closed_by = now, principal.subject
    if issue.sla_paused_since is not None:
        sla.resume(issue, at=now)
    team = await session.get(CaseTeam, issue.case_id)
    journal(session, issue, "closed", body.model_dump(exclude_none=True), by=principal.actor, at=now)
    emit(session, IssueClosed(issue_id=issue.id, case_id=issue.case_id, closed_by=principal.subject,
                              customer_visible=issue.customer_visible,
                              customer_name=team.customer_name if team else None,
                              region=team.region if team else None), case_id=issue.case_id, actor=principal.actor)
    return issue


async def reopen(*, session: AsyncSession, issue_id: UUID, body: Reopen, principal: Principal,
                 if_match: str | None) -> QualityIssue:
    """A closed issue reopened with a reason -> IssueReopened; the loop's stages must be recorded again."""
    issue = await _locked(session, principal, issue_id, if_match)
    _require_mover(issue, principal)
    issue.status = domain.reopen_gate(issue.status)
    now = utcnow()
    previous_loop = issue.loop
    issue.loop = {}
    issue.closed_at = issue.closed_by = None
    issue.resolution_breached_at = issue.resolution_warned_at = None
    if issue.status == IssueStatus.LOGGED:
        issue.on_site_resolution = None
    journal(session, issue, "reopened", {"reason": body.reason, "previous_loop": previous_loop},
            by=principal.actor, at=now)
    emit(session, IssueReopened(issue_id=issue.id, case_id=issue.case_id, reason=body.reason, by=principal.subject),
         case_id=issue.case_id, actor=principal.actor)
    return issue


async def record_template_revision(*, session: AsyncSession, event: SpecificationTemplateRevised,
                                   actor: str) -> None:
    """S5 <- S25: dispatch revised the template a preventive action asked for; the issue shows when it landed."""
    stmt = select(QualityIssue).with_for_update()
    if event.issue_id is not None:
        stmt = stmt.where(col(QualityIssue.id) == event.issue_id)
    else:  # no issue named: every issue whose preventive action asked for this template
        stmt = stmt.where(QualityIssue.loop["preventive_action"]["template_id"].astext == event.template_id)
    now = utcnow()
    for issue in (await session.execute(stmt)).scalars():
        landed = issue.template_revision or {}
        if landed.get("template_id") == event.template_id and landed.get("version", 0) >= event.version:
            continue  # the same fact again
        record = {"template_id": event.template_id, "version": event.version,
                  "equipment_type": event.equipment_type, "revised_by": event.revised_by,
                  "landed_at": now.isoformat()}
        issue.template_revision = record
        journal(session, issue, "template_revision_landed", record, by=actor, at=now)


# ---- reads -----------------------------------------------------------------------------------

async def get(*, session: AsyncSession, issue_id: UUID, principal: Principal, for_update: bool = False) -> QualityIssue:
    """The issue (row-locked when asked); 404 if absent or on a case the engineer is not on."""
    issue = await get_or_404(session, QualityIssue, issue_id, what=msg("quality issue"), for_update=for_update)
    try:
        await _require_on_case(session, principal, issue.case_id)
    except NotFound:
        raise NotFound(msg("quality issue {issue_id} does not exist", issue_id=issue_id)) from None
    return issue


async def history(*, session: AsyncSession, issue_id: UUID, principal: Principal) -> list[IssueJournalEntry]:
    await get(session=session, issue_id=issue_id, principal=principal)
    stmt = (select(IssueJournalEntry).where(col(IssueJournalEntry.issue_id) == issue_id)
            .order_by(col(IssueJournalEntry.at), col(IssueJournalEntry.id)))
    return list((await session.execute(stmt)).scalars())


async def pause_sla(*, session: AsyncSession, issue_id: UUID, reason: str, principal: Principal,
                    if_match: str | None) -> QualityIssue:
    """Pause the SLA clocks while waiting for the customer."""
    issue = await _locked(session, principal, issue_id, if_match)
    _require_mover(issue, principal)
    now = utcnow()
    journal(session, issue, "sla_paused", sla.pause(issue, reason=reason, at=now), by=principal.actor, at=now)
    return issue


async def resume_sla(*, session: AsyncSession, issue_id: UUID, principal: Principal,
                     if_match: str | None) -> QualityIssue:
    issue = await _locked(session, principal, issue_id, if_match)
    _require_mover(issue, principal)
    now = utcnow()
    journal(session, issue, "sla_resumed", sla.resume(issue, at=now), by=principal.actor, at=now)
    return issue


async def search(
    *, session: AsyncSession, principal: Principal, limit: int, cursor: str | None,
    case_id: UUID | None = None, product: str | None = None, model: str | None = None,
    failure_mode: str | None = None, severity: str | None = None, status: str | None = None,
    owner: str | None = None, source: str | None = None, min_age_days: int | None = None,
    max_age_days: int | None = None,
) -> tuple[list[QualityIssue], str | None]:
    """Issues by case, product, failure mode, severity, state, owner, age; newest first, keyset paged."""
    if case_id is not None:
        await _require_on_case(session, principal, case_id)
    elif not _is_staff(principal):
        raise Forbidden(msg("engineers list issues of one of their cases (give case_id)"))
    filters = {"case_id": case_id, "product": product, "model": model, "failure_mode": failure_mode,
               "severity": severity, "status": status, "owner": owner, "source": source}
    stmt = where_given(select(QualityIssue), *((getattr(QualityIssue, name), value) for name, value in filters.items()))
    now = utcnow()
    if min_age_days is not None:
        stmt = stmt.where(col(QualityIssue.created_at) <= now - timedelta(days=min_age_days))
    if max_age_days is not None:
        stmt = stmt.where(col(QualityIssue.created_at) >= now - timedelta(days=max_age_days))
    return await keyset_page(session, stmt, model=QualityIssue, at=col(QualityIssue.created_at), limit=limit,
                             cursor=cursor, newest_first=True)
