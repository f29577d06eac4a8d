"""Work-on-site operations (S9, S11-S14, S17): plain async functions, never committing."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.events import emit
from services.onsite.evidence.models import EvidenceFile
from services.onsite.reported_times import Earlier, act_time
from services.onsite.site_days import site_calendar
from services.onsite.visits import service as visits
from services.onsite.visits.models import SiteVisit, VisitQualityIssue
from services.onsite.work import domain
from services.onsite.work.models import (
    BriefingCreate,
    BriefingDispute,
    DispositionCreate,
    DisputeStatus,
    Milestone,
    MilestoneCreate,
    PermitCreate,
    ProcessDataCreate,
    ProcessDataReading,
    ProcessDataRecord,
    SafetyChecklist,
    SafetyChecklistCreate,
    Signature,
    SiteTask,
    TaskCreate,
    TaskProgress,
    TaskStatus,
    TechnicalBriefing,
    WitnessCreate,
    WitnessRecord,
    WorkPermit,
)
from shared.api.auth import Principal
from shared.api.concurrency import check_if_match
from shared.api.problems import GateRefused, InvalidInput, NotFound
from shared.api.resources import bump_version, get_or_404
from shared.clock import utcnow
from shared.events.dispatch import CheckSheetItem, ServiceDispatched
from shared.events.onsite import (
    BriefingDisputeEscalated,
    MilestoneReached,
    PermitRecorded,
    ProcessDataRecorded,
    SafetyCheckCompleted,
    ScheduleAtRisk,
    TaskStarted,
    TechnicalBriefingHeld,
    WitnessRecorded,
    WorkPlanUpdated,
)
from shared.messages import msg


def tasks_from_dispatch(visit_id: UUID, event: ServiceDispatched, actor: str) -> list[SiteTask]:
    """S12/S13: one task per dispatched check sheet, plus one per plan step without a sheet."""
    now = utcnow()
    tasks: list[SiteTask] = []
    for sheet in event.check_sheets:
        tasks.append(SiteTask(
            visit_id=visit_id, title=sheet.title, sheet_id=sheet.sheet_id, permit_scope=sheet.sheet_id,
            items=[i.model_dump() for i in sheet.items],
            live_hv=any(i.live_hv for i in sheet.items), primary_test=any(i.primary_test for i in sheet.items),
            planned_start=event.planned_start, planned_end=event.planned_end,
            created_at=now, updated_at=now, updated_by=actor,
        ))
    if not event.check_sheets and event.plan is not None:
        for step in sorted(event.plan.steps, key=lambda s: s.order):
            tasks.append(SiteTask(
                visit_id=visit_id, title=step.title, plan_step=step.order, permit_scope=f"step-{step.order}",
                items=[], planned_start=event.planned_start, planned_end=event.planned_end,
                created_at=now, updated_at=now, updated_by=actor,
            ))
    return tasks


def task_view(task: SiteTask) -> domain.TaskView:
    return domain.TaskView(title=task.title, permit_scope=task.permit_scope, live_hv=task.live_hv,
                           primary_test=task.primary_test, status=task.status)


def items_of(task: SiteTask) -> list[CheckSheetItem]:
    return [CheckSheetItem.model_validate(i) for i in task.items]


# ---------------------------------------------------------------- S9 briefing

async def hold_briefing(*, session: AsyncSession, visit_id: UUID, body: BriefingCreate,
                        principal: Principal) -> tuple[TechnicalBriefing, list[BriefingDispute]]:
    """S9: record the briefing; disputed points stay open (not blocking) and escalatable."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    content = body.model_dump(mode="json", exclude={"held_at", "disputed_points"})
    briefing = TechnicalBriefing(visit_id=visit.id, held_at=body.held_at, held_by=principal.subject,
                                 content=content, created_at=utcnow())
    session.add(briefing)
    await session.flush()
    disputes = [BriefingDispute(visit_id=visit.id, briefing_id=briefing.id, point=p) for p in body.disputed_points]
    session.add_all(disputes)
    visits.touch(visit, principal)
    emit(session, TechnicalBriefingHeld(
        case_id=visit.case_id, visit_id=visit.id, briefing_id=briefing.id, held_at=body.held_at,
        held_by=principal.subject, open_disputes=len(disputes), customer_attendees=body.customer_attendees,
    ), case_id=visit.case_id, actor=principal.actor)
    return briefing, disputes


async def escalate_dispute(*, session: AsyncSession, visit_id: UUID, dispute_id: UUID, escalated_to: str,
                           principal: Principal) -> BriefingDispute:
    """S9: escalate an open disputed point to unit leadership or the regional centre."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    dispute = await get_or_404(session, BriefingDispute, dispute_id, what=msg("disputed point"),
                               within=col(BriefingDispute.visit_id) == visit.id, where=msg("on this visit"),
                               for_update=True)
    if dispute.status != DisputeStatus.OPEN:
        raise GateRefused(msg("dispute escalation"), [msg("S9: the disputed point is already {status}",
            status=dispute.status)])
    dispute.status = DisputeStatus.ESCALATED
    dispute.escalated_to, dispute.escalated_by, dispute.escalated_at = escalated_to, principal.subject, utcnow()
    emit(session, BriefingDisputeEscalated(case_id=visit.case_id, visit_id=visit.id, dispute_id=dispute.id,
                                           escalated_to=escalated_to),
         case_id=visit.case_id, actor=principal.actor)
    return dispute


async def briefings(
    *, session: AsyncSession, visit: SiteVisit
) -> list[tuple[TechnicalBriefing, list[BriefingDispute]]]:
    rows = await visits.rows_on(session, TechnicalBriefing, visit.id, col(TechnicalBriefing.held_at))
    disputes = (await session.execute(
        select(BriefingDispute).where(col(BriefingDispute.visit_id) == visit.id))).scalars()
    by_briefing: dict[UUID, list[BriefingDispute]] = {}
    for d in disputes:
        by_briefing.setdefault(d.briefing_id, []).append(d)
    return [(b, by_briefing.get(b.id, [])) for b in rows]


# ---------------------------------------------------------------- S11 permits

async def record_permit(*, session: AsyncSession, visit_id: UUID, body: PermitCreate,
                        principal: Principal) -> WorkPermit:
    """S11: record a customer work permit with its scope and validity."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    permit = WorkPermit(visit_id=visit.id, number=body.number, issued_by=body.issued_by, scope=body.scope,
                        valid_from=body.valid_from, valid_to=body.valid_to, created_by=principal.subject,
                        created_at=utcnow())
    session.add(permit)
    await session.flush()
    emit(session, PermitRecorded(case_id=visit.case_id, visit_id=visit.id, permit_id=permit.id,
                                 number=body.number, scope=body.scope, valid_from=body.valid_from,
                                 valid_to=body.valid_to), case_id=visit.case_id, actor=principal.actor)
    return permit


async def permits(*, session: AsyncSession, visit_id: UUID) -> list[WorkPermit]:
    return await visits.rows_on(session, WorkPermit, visit_id, col(WorkPermit.valid_from))


# ---------------------------------------------------------------- S12 tasks and plan

async def get_task(*, session: AsyncSession, visit: SiteVisit, task_id: UUID, for_update: bool = False) -> SiteTask:
    return await get_or_404(session, SiteTask, task_id, what=msg("task"), within=col(SiteTask.visit_id) == visit.id,
                            where=msg("on this visit"), for_update=for_update)


async def tasks(*, session: AsyncSession, visit_id: UUID) -> list[SiteTask]:
    return await visits.rows_on(session, SiteTask, visit_id, col(SiteTask.created_at), col(SiteTask.id))


async def add_task(*, session: AsyncSession, visit_id: UUID, body: TaskCreate, principal: Principal) -> SiteTask:
    """S12: a task of the site work plan added from the briefing."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    now = utcnow()
    task = SiteTask(visit_id=visit.id, title=body.title, permit_scope=body.permit_scope, items=[],
                    live_hv=body.live_hv, primary_test=body.primary_test, planned_start=body.planned_start,
                    planned_end=body.planned_end, created_at=now, updated_at=now, updated_by=principal.actor)
    session.add(task)
    await session.flush()
    await _plan_changed(session=session, visit=visit, principal=principal, reason=f"task '{body.title}' added")
    return task


async def update_progress(*, session: AsyncSession, visit_id: UUID, task_id: UUID, body: TaskProgress,
                          principal: Principal, if_match: str | None) -> SiteTask:
    """S12: progress against the plan; a planned end past the customer's deadline raises ScheduleAtRisk."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    task = await get_task(session=session, visit=visit, task_id=task_id, for_update=True)
    check_if_match(if_match, task.version)
    task.progress_percent = body.progress_percent
    if body.planned_end is not None:
        task.planned_end = body.planned_end
    bump_version(task, principal.actor)
    await session.flush()
    await _plan_changed(session=session, visit=visit, principal=principal,
                        reason=body.reason or f"task '{task.title}' planned end moved")
    return task


async def _plan_changed(*, session: AsyncSession, visit: SiteVisit, principal: Principal, reason: str) -> None:
    all_tasks = await tasks(session=session, visit_id=visit.id)
    ends = [t.planned_end for t in all_tasks if t.planned_end is not None]
    planned_completion = max(ends) if ends else None
    emit(session, WorkPlanUpdated(
        case_id=visit.case_id, visit_id=visit.id, tasks=len(all_tasks),
        tasks_done=sum(1 for t in all_tasks if t.status == TaskStatus.DONE), planned_completion=planned_completion,
    ), case_id=visit.case_id, actor=principal.actor)
    deadline = visit.customer_deadline
    at_risk = planned_completion is not None and deadline is not None and planned_completion > deadline
    # Once per risk: a new ScheduleAtRisk only when the plan newly passes the deadline, or passes it further.
    if at_risk and planned_completion is not None and (
            visit.risk_reported_completion is None or planned_completion > visit.risk_reported_completion):
        visit.risk_reported_completion = planned_completion
        emit(session, ScheduleAtRisk(
            case_id=visit.case_id, visit_id=visit.id, risk_id=uuid4(), planned_completion=planned_completion,
            customer_deadline=deadline, reason=reason,
        ), case_id=visit.case_id, actor=principal.actor)
    elif not at_risk:
        visit.risk_reported_completion = None


# ---------------------------------------------------------------- S14 safety, S13 start

async def record_safety_checklist(*, session: AsyncSession, visit_id: UUID, task_id: UUID,
                                  body: SafetyChecklistCreate, principal: Principal) -> SafetyChecklist:
    """S14: today's checklist of a task (replaces an earlier one of the same day)."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    task = await get_task(session=session, visit=visit, task_id=task_id)
    await _check_act(session, visit, step=msg("S14 safety checklist"), at=body.occurred_at)
    received = utcnow()
    occurred = act_time(body.occurred_at, received)
    answers = body.model_dump(mode="json", exclude={"day", "occurred_at"})
    missing = domain.safety_missing(answers, live_hv=task.live_hv, primary_test=task.primary_test, day=body.day)
    checklist = (await session.execute(select(SafetyChecklist).where(
        col(SafetyChecklist.task_id) == task.id, col(SafetyChecklist.day) == body.day)
        .with_for_update())).scalar_one_or_none()
    if checklist is None:
        checklist = SafetyChecklist(visit_id=visit.id, task_id=task.id, day=body.day, answers=answers,
                                    missing=missing, checked_by=principal.subject, checked_at=received,
                                    occurred_at=occurred)
        session.add(checklist)
    else:
        checklist.answers, checklist.missing = answers, missing
        checklist.checked_by, checklist.checked_at, checklist.occurred_at = principal.subject, received, occurred
    if not missing:
        emit(session, SafetyCheckCompleted(
            case_id=visit.case_id, visit_id=visit.id, task_id=task.id, day=body.day, live_hv=task.live_hv,
            primary_test=task.primary_test, checked_by=principal.subject,
        ), case_id=visit.case_id, actor=principal.actor)
    await session.flush()
    return checklist


async def start_task(*, session: AsyncSession, visit_id: UUID, task_id: UUID, principal: Principal,
                     if_match: str | None, now: datetime | None = None) -> SiteTask:
    """S13 with the S9, S11 and S14 gates: the task starts only when every condition holds."""
    now = now or utcnow()
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    task = await get_task(session=session, visit=visit, task_id=task_id, for_update=True)
    check_if_match(if_match, task.version)
    briefing_held = (await session.execute(select(func.count()).select_from(TechnicalBriefing).where(
        col(TechnicalBriefing.visit_id) == visit.id))).scalar_one() > 0
    permit_views = [domain.PermitView(p.number, p.scope, p.valid_from, p.valid_to)
                    for p in await permits(session=session, visit_id=visit.id)]
    site_now = now.astimezone(site_calendar().zone(visit.region))  # S14: the checklist of the site's day
    checklist = (await session.execute(select(SafetyChecklist).where(
        col(SafetyChecklist.task_id) == task.id, col(SafetyChecklist.day) == site_now.date()))).scalar_one_or_none()
    domain.check_task_start(task=task_view(task), briefing_held=briefing_held, permits=permit_views,
                            safety_answers=checklist.answers if checklist else None, now=site_now)
    task.status = TaskStatus.STARTED
    task.started_at, task.started_by = now, principal.subject
    bump_version(task, principal.actor, at=now)
    emit(session, TaskStarted(case_id=visit.case_id, visit_id=visit.id, task_id=task.id, title=task.title,
                              started_by=principal.subject), case_id=visit.case_id, actor=principal.actor)
    return task


async def _check_act(session: AsyncSession, visit: SiteVisit, *, step: str, at: datetime | None,
                     after: list[Earlier] | None = None) -> None:
    """The client's time of an act on site (`body.occurred_at`) is plausible: not in the future, not before
    the dispatch, the first arrival on site or what `after` names (`reported_times`)."""
    if at is not None:
        visits.check_reported(visit, step=step, field="body.occurred_at", at=at, after=[
            Earlier(msg("the first arrival on site"), await visits.arrived_at(session, visit.id)), *(after or [])])


async def _check_day_safety(session: AsyncSession, visit: SiteVisit, task: SiteTask, now: datetime,
                            gate: str) -> None:
    """S14: work on a started task on a later site day than its start needs that day's checklist."""
    if task.status != TaskStatus.STARTED or task.started_at is None:
        return
    calendar = site_calendar()
    day = calendar.day(now, visit.region)
    checklist = (await session.execute(select(SafetyChecklist).where(
        col(SafetyChecklist.task_id) == task.id, col(SafetyChecklist.day) == day))).scalar_one_or_none()
    domain.check_day_safety(task=task_view(task), started_on=calendar.day(task.started_at, visit.region), day=day,
                            safety_answers=checklist.answers if checklist else None, gate=gate)


async def complete_task(*, session: AsyncSession, visit_id: UUID, task_id: UUID, principal: Principal,
                        if_match: str | None, occurred_at: datetime | None = None) -> SiteTask:
    """S13: the task is done when every check-sheet item is recorded and signed off (done at the act's time:
    not before the task started)."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    task = await get_task(session=session, visit=visit, task_id=task_id, for_update=True)
    check_if_match(if_match, task.version)
    await _check_act(session, visit, step=msg("S13 task done"), at=occurred_at,
                     after=[Earlier(msg("the task's start"), task.started_at)])
    records = (await session.execute(
        select(ProcessDataRecord).where(col(ProcessDataRecord.task_id) == task.id))).scalars()
    recorded = {r.item_id: r.signed_off_at is not None for r in records}
    domain.check_task_done(task=task_view(task), items=items_of(task), recorded=recorded)
    task.status, task.progress_percent = TaskStatus.DONE, 100
    received = utcnow()
    task.done_at, task.done_recorded_at, task.done_by = act_time(occurred_at, received), received, principal.subject
    bump_version(task, principal.actor)
    await session.flush()
    await _plan_changed(session=session, visit=visit, principal=principal, reason=f"task '{task.title}' done")
    return task


# ---------------------------------------------------------------- S13 process data, milestones; S17 witness

async def record_process_data(*, session: AsyncSession, visit_id: UUID, task_id: UUID, item_id: str,
                              body: ProcessDataCreate, principal: Principal,
                              now: datetime | None = None) -> ProcessDataRecord:
    """S13: record a check-sheet value; outside the acceptance limits it is failed automatically.

    Every reading is kept (a re-measurement never overwrites a failed one); the entry shows the latest,
    and a passing re-measurement after a failed one is its disposition (S25).
    """
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    task = await get_task(session=session, visit=visit, task_id=task_id, for_update=True)
    if task.status != TaskStatus.STARTED:
        raise GateRefused(msg("process data"), [
            msg("S13: the task is {status}; values are recorded while it is started", status=task.status)])
    await _check_act(session, visit, step=msg("S13 process data"), at=body.occurred_at,
                     after=[Earlier(msg("the task's start"), task.started_at)])
    received = now or utcnow()
    occurred = act_time(body.occurred_at, received)
    # S14: the safety checklist of the day the value was measured
    await _check_day_safety(session, visit, task, occurred, gate="process data")
    item = next((i for i in items_of(task) if i.item_id == item_id), None)
    if item is None:
        raise NotFound(msg("check-sheet item {item_id} is not on this task", item_id=item_id))
    passed = domain.evaluate_value(item, body.value, body.unit)
    record = (await session.execute(select(ProcessDataRecord).where(
        col(ProcessDataRecord.task_id) == task.id, col(ProcessDataRecord.item_id) == item_id))).scalar_one_or_none()
    if record is not None and record.signed_off_at is not None:
        raise GateRefused(msg("sign-off"), [msg("S13: item {item_id} is already signed off", item_id=item_id)])
    now = utcnow()
    if record is not None and occurred < record.occurred_at:
        raise InvalidInput(msg("S13 process data: body.occurred_at {occurred} is before the entry's latest reading "
            "at {occurred_at} (rule: a re-measurement comes after the reading it replaces)",
            occurred=occurred.isoformat(), occurred_at=record.occurred_at.isoformat()), field="body.occurred_at")
    if record is None:
        record = ProcessDataRecord(visit_id=visit.id, task_id=task.id, item_id=item_id, value=body.value,
                                   unit=body.unit, passed=passed, requires_witness=item.requires_witness
                                   or item.kind == "witness", requires_photo=item.requires_photo
                                   or item.kind == "photo", recorded_by=principal.subject, recorded_at=now,
                                   occurred_at=occurred)
        session.add(record)
        failed_before = False
    else:
        failed_before = (await session.execute(select(func.count()).select_from(ProcessDataReading).where(
            col(ProcessDataReading.record_id) == record.id,
            col(ProcessDataReading.passed).is_(False)))).scalar_one() > 0
        record.value, record.unit, record.passed = body.value, body.unit, passed
        record.recorded_by, record.recorded_at, record.occurred_at = principal.subject, now, occurred
    record.disposition = domain.disposition_after_reading(passed=passed, failed_before=failed_before)
    record.issue_id = record.concession_reason = record.concession_witness_id = None
    record.disposed_by, record.disposed_at = (principal.subject, now) if record.disposition else (None, None)
    await session.flush()
    reading = ProcessDataReading(record_id=record.id, visit_id=visit.id, value=body.value, unit=body.unit,
                                 passed=passed, recorded_by=principal.subject, recorded_at=now, occurred_at=occurred)
    session.add(reading)
    emit(session, ProcessDataRecorded(
        case_id=visit.case_id, visit_id=visit.id, task_id=task.id, item_id=item_id, value=body.value,
        unit=body.unit, passed=passed, recorded_by=principal.subject, reading_id=reading.id,
        task_title=task.title, item_text=item.text, lower_limit=item.lower_limit, upper_limit=item.upper_limit,
        equipment_type=visit.equipment_type,
    ), case_id=visit.case_id, actor=principal.actor)
    return record


async def readings(*, session: AsyncSession, visit_id: UUID, task_id: UUID, item_id: str) -> list[ProcessDataReading]:
    """S13: every reading of one entry, oldest first (failed ones included)."""
    record = (await session.execute(select(ProcessDataRecord).where(
        col(ProcessDataRecord.visit_id) == visit_id, col(ProcessDataRecord.task_id) == task_id,
        col(ProcessDataRecord.item_id) == item_id))).scalar_one_or_none()
    if record is None:
        raise NotFound(msg("no value recorded for item {item_id} of task {task_id}", item_id=item_id, task_id=task_id))
    return list((await session.execute(
        select(ProcessDataReading).where(col(ProcessDataReading.record_id) == record.id)
        .order_by(col(ProcessDataReading.recorded_at), col(ProcessDataReading.id)))).scalars())


async def _locked_entry(session: AsyncSession, visit: SiteVisit, task_id: UUID, item_id: str) -> ProcessDataRecord:
    record = (await session.execute(select(ProcessDataRecord).where(
        col(ProcessDataRecord.visit_id) == visit.id, col(ProcessDataRecord.task_id) == task_id,
        col(ProcessDataRecord.item_id) == item_id).with_for_update())).scalar_one_or_none()
    if record is None:
        raise NotFound(msg("no value recorded for item {item_id} of task {task_id}", item_id=item_id, task_id=task_id))
    return record


async def record_disposition(*, session: AsyncSession, visit_id: UUID, task_id: UUID, item_id: str,
                             body: DispositionCreate, principal: Principal) -> ProcessDataRecord:
    """S25: a failed entry linked to a logged quality issue, or accepted by the customer's signed concession."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    record = await _locked_entry(session, visit, task_id, item_id)
    issue_logged = False
    if body.issue_id is not None and body.kind == domain.ISSUE:
        issue = await session.get(VisitQualityIssue, body.issue_id)
        issue_logged = issue is not None and issue.visit_id == visit.id
    domain.check_disposition(what=msg("item {item_id}", item_id=item_id), kind=body.kind, passed=record.passed,
                             signed_off=record.signed_off_at is not None,
                             issue_id=str(body.issue_id) if body.issue_id else None, issue_logged=issue_logged)
    now = utcnow()
    record.disposition, record.disposed_by, record.disposed_at = body.kind, principal.subject, now
    if body.kind == domain.ISSUE:
        record.issue_id, record.concession_reason, record.concession_witness_id = body.issue_id, None, None
    else:
        witness_body = body.customer_witness
        assert witness_body is not None and body.reason is not None  # DispositionCreate checks both
        witness = await _add_witness(session=session, visit=visit, principal=principal, subject_kind="concession",
                                     subject_id=record.id, name=witness_body.name, role=witness_body.role,
                                     signature=witness_body.signature)
        record.issue_id, record.concession_reason = None, body.reason.strip()
        record.concession_witness_id = witness.id
    await session.flush()
    return record


async def _has_witness(session: AsyncSession, subject_id: UUID) -> WitnessRecord | None:
    """The latest witness on an entry or milestone (a concession's signature is not an S17 witness)."""
    return (await session.execute(select(WitnessRecord).where(col(WitnessRecord.subject_id) == subject_id,
                                                              col(WitnessRecord.subject_kind) != "concession")
                                  .order_by(col(WitnessRecord.recorded_at).desc()).limit(1))).scalar_one_or_none()


async def _has_evidence(session: AsyncSession, attached_id: UUID) -> bool:
    return (await session.execute(select(func.count()).select_from(EvidenceFile).where(
        col(EvidenceFile.attached_id) == attached_id))).scalar_one() > 0


async def sign_off_process_data(*, session: AsyncSession, visit_id: UUID, task_id: UUID, item_id: str,
                                principal: Principal, now: datetime | None = None) -> ProcessDataRecord:
    """S13/S17/S19/S25: sign off an entry; one flagged as needing a witness (or photo) needs it first,
    a failed one its disposition."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    record = await _locked_entry(session, visit, task_id, item_id)
    await _check_day_safety(session, visit, await get_task(session=session, visit=visit, task_id=record.task_id),
                            now or utcnow(), gate="sign-off")
    domain.check_sign_off(
        what=msg("item {item_id}", item_id=item_id), requires_witness=record.requires_witness,
        has_witness=await _has_witness(session, record.id) is not None, requires_photo=record.requires_photo,
        has_evidence=await _has_evidence(session, record.id), already_signed=record.signed_off_at is not None,
        passed=record.passed, disposition=record.disposition,
    )
    record.signed_off_by, record.signed_off_at = principal.subject, utcnow()
    return record


async def add_milestone(*, session: AsyncSession, visit_id: UUID, body: MilestoneCreate,
                        principal: Principal) -> Milestone:
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    if body.task_id is not None:
        await get_task(session=session, visit=visit, task_id=body.task_id)
    milestone = Milestone(visit_id=visit.id, task_id=body.task_id, title=body.title,
                          requires_witness=body.requires_witness, created_by=principal.subject, created_at=utcnow())
    session.add(milestone)
    await session.flush()
    return milestone


async def milestones(*, session: AsyncSession, visit_id: UUID) -> list[Milestone]:
    return await visits.rows_on(session, Milestone, visit_id, col(Milestone.created_at))


async def sign_off_milestone(*, session: AsyncSession, visit_id: UUID, milestone_id: UUID,
                             principal: Principal) -> Milestone:
    """S13/S17: a milestone is reached when signed off, with its witness when one is required."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    milestone = await get_or_404(session, Milestone, milestone_id, what=msg("milestone"),
                                 within=col(Milestone.visit_id) == visit.id, where=msg("on this visit"),
                                 for_update=True)
    witness = await _has_witness(session, milestone.id)
    domain.check_sign_off(what=msg("milestone '{title}'", title=milestone.title),
                          requires_witness=milestone.requires_witness, has_witness=witness is not None,
                          already_signed=milestone.reached_at is not None)
    milestone.reached_at, milestone.signed_off_by = utcnow(), principal.subject
    emit(session, MilestoneReached(
        case_id=visit.case_id, visit_id=visit.id, milestone_id=milestone.id, title=milestone.title,
        reached_at=milestone.reached_at, witnessed_by=witness.name if witness else None,
    ), case_id=visit.case_id, actor=principal.actor)
    return milestone


async def record_witness(*, session: AsyncSession, visit_id: UUID, body: WitnessCreate,
                         principal: Principal) -> WitnessRecord:
    """S17: the witness's name, role and signature (typed name with time, or an image) on a record."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    model: type[ProcessDataRecord] | type[Milestone] = (
        ProcessDataRecord if body.subject_kind == "process_data" else Milestone)
    exists = (await session.execute(select(col(model.id)).where(
        col(model.id) == body.subject_id, col(model.visit_id) == visit.id))).first()
    if exists is None:
        raise NotFound(msg("{subject_kind} {subject_id} does not exist on this visit",
            subject_kind=body.subject_kind, subject_id=body.subject_id))
    return await _add_witness(session=session, visit=visit, principal=principal, subject_kind=body.subject_kind,
                              subject_id=body.subject_id, name=body.name, role=body.role, signature=body.signature)


async def _add_witness(*, session: AsyncSession, visit: SiteVisit, principal: Principal, subject_kind: str,
                       subject_id: UUID, name: str, role: str, signature: Signature) -> WitnessRecord:
    visits.check_reported(visit, step=msg("S17 witness"), field="signature.signed_at", at=signature.signed_at,
                          after=[Earlier(msg("the first arrival on site"), await visits.arrived_at(session, visit.id))])
    if signature.evidence_id is not None:
        image = await session.get(EvidenceFile, signature.evidence_id)
        if image is None or image.visit_id != visit.id or not image.content_type.startswith("image/"):
            raise InvalidInput(msg("the signature image must be an image uploaded to this visit"),
                               field="signature.evidence_id")
    witness = WitnessRecord(
        visit_id=visit.id, subject_kind=subject_kind, subject_id=subject_id, name=name,
        role=role, signature_kind=signature.kind, typed_name=signature.typed_name,
        signature_evidence_id=signature.evidence_id, signed_at=signature.signed_at,
        recorded_by=principal.subject, recorded_at=utcnow(),
    )
    session.add(witness)
    await session.flush()
    emit(session, WitnessRecorded(
        case_id=visit.case_id, visit_id=visit.id, witness_id=witness.id, subject_kind=subject_kind,
        subject_id=str(subject_id), witness_name=name, witness_role=role,
    ), case_id=visit.case_id, actor=principal.actor)
    return witness


async def process_data(*, session: AsyncSession, visit_id: UUID, limit: int,
                       cursor: str | None) -> tuple[list[ProcessDataRecord], str | None]:
    return await visits.page_on(session, ProcessDataRecord, visit_id, ProcessDataRecord.recorded_at, limit=limit,
                                cursor=cursor)


async def witnesses(*, session: AsyncSession, visit_id: UUID, limit: int,
                    cursor: str | None) -> tuple[list[WitnessRecord], str | None]:
    return await visits.page_on(session, WitnessRecord, visit_id, WitnessRecord.recorded_at, limit=limit, cursor=cursor)
