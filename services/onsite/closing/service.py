"""Closing operations (S26-S30, S33): plain async functions, never committing."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.closing import domain, report
from services.onsite.closing.models import (
    CheckCreate,
    CleanupCreate,
    ClosingRecord,
    CompletionCreate,
    Departure,
    DepartureCreate,
    DrawingRevision,
    DrawingRevisionCreate,
    DrawingsDispatch,
    EngineerCheck,
    Handover,
    HandoverCreate,
    RepairTakeBack,
    RepairTakeBackCreate,
    ReportVerification,
    ServiceReport,
)
from services.onsite.events import emit
from services.onsite.evidence import service as evidence
from services.onsite.evidence.models import EvidenceFile
from services.onsite.reported_times import Earlier, latest
from services.onsite.site_days import site_calendar
from services.onsite.site_records.models import LeaveRequest
from services.onsite.visits import service as visits
from services.onsite.visits.models import SiteVisit, ThreeCallsRecord, VisitQualityIssue, VisitStatus
from services.onsite.work import service as work
from services.onsite.work.models import ProcessDataRecord, SiteTask, TaskStatus, WitnessRecord
from shared.api.auth import Principal
from shared.api.concurrency import check_if_match
from shared.api.problems import Conflict, GateRefused, NotFound, Problem
from shared.clock import utcnow
from shared.events.onsite import (
    AspectRating,
    CleanupConfirmed,
    CrossCheckCompleted,
    DrawingRevisionRecorded,
    DrawingsDispatched,
    EngineerDeparted,
    HandoverCompleted,
    NoDrawingDeviationsDeclared,
    RepairRequested,
    SelfCheckCompleted,
    ServiceCompleted,
)
from shared.messages import msg
from shared.storage import FileStorage


async def _closing(session: AsyncSession, visit: SiteVisit) -> ClosingRecord:
    record = await session.get(ClosingRecord, visit.id, with_for_update=True)
    if record is None:
        record = ClosingRecord(visit_id=visit.id)
        session.add(record)
    return record


async def unrecorded_items(session: AsyncSession, visit_id: UUID) -> list[str]:
    """Check-sheet items of the visit's tasks without a recorded value (as `task title/item id`)."""
    tasks = await work.tasks(session=session, visit_id=visit_id)
    recorded = {(r.task_id, r.item_id) for r in (await session.execute(
        select(ProcessDataRecord).where(col(ProcessDataRecord.visit_id) == visit_id))).scalars()}
    return [f"{t.title}/{item['item_id']}" for t in tasks for item in t.items
            if (t.id, item["item_id"]) not in recorded]


async def work_state(session: AsyncSession, visit_id: UUID) -> domain.WorkState:
    """S13/S17/S19/S25: the visit's tasks, entries (with witness and disposition) and milestones (with witness
    and evidence) as the S30 gate sees them."""
    tasks = await work.tasks(session=session, visit_id=visit_id)
    titles = {t.id: t.title for t in tasks}
    records = list((await session.execute(select(ProcessDataRecord).where(
        col(ProcessDataRecord.visit_id) == visit_id).order_by(col(ProcessDataRecord.recorded_at)))).scalars())
    milestones = await work.milestones(session=session, visit_id=visit_id)
    witnessed = set((await session.execute(select(col(WitnessRecord.subject_id)).where(
        col(WitnessRecord.visit_id) == visit_id, col(WitnessRecord.subject_kind) != "concession"))).scalars())
    with_evidence = set((await session.execute(select(col(EvidenceFile.attached_id)).where(
        col(EvidenceFile.visit_id) == visit_id, col(EvidenceFile.attached_kind) == "milestone"))).scalars())
    return domain.WorkState(
        tasks=tuple((t.title, t.status) for t in tasks),
        entries=tuple(domain.EntryView(
            name=f"{titles.get(r.task_id, r.task_id)}/{r.item_id}", passed=r.passed,
            signed_off=r.signed_off_at is not None, requires_witness=r.requires_witness,
            witnessed=r.id in witnessed, disposition=r.disposition) for r in records),
        milestones=tuple(domain.MilestoneView(
            title=m.title, reached=m.reached_at is not None, requires_witness=m.requires_witness,
            witnessed=m.id in witnessed, has_evidence=m.id in with_evidence) for m in milestones),
    )


# ---------------------------------------------------------------- S26

async def record_check(*, session: AsyncSession, visit_id: UUID, body: CheckCreate,
                       principal: Principal) -> EngineerCheck:
    """S26: a self-check (every item recorded) or a cross-check of another team engineer's items."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    engineer_id = body.engineer_id or principal.subject
    checks = list((await session.execute(
        select(EngineerCheck).where(col(EngineerCheck.visit_id) == visit.id))).scalars())
    items = sum(1 for r in (await session.execute(select(ProcessDataRecord).where(
        col(ProcessDataRecord.visit_id) == visit.id, col(ProcessDataRecord.recorded_by) == engineer_id))).scalars())
    if engineer_id == principal.subject:
        domain.check_self_check(unrecorded_items=await unrecorded_items(session, visit.id),
                                failed_items=domain.failed_without_disposition(
                                    (await work_state(session, visit.id)).entries))
    else:
        domain.check_cross_check(team=visit.engineer_ids, engineer_id=engineer_id, checker_id=principal.subject,
                                 self_checked=any(c.engineer_id == c.checker_id == engineer_id for c in checks))
    if any(c.engineer_id == engineer_id and c.checker_id == principal.subject for c in checks):
        raise GateRefused(msg("self-check") if engineer_id == principal.subject else msg("cross-check"),
                          [msg("S26: this check is already recorded")])
    check = EngineerCheck(visit_id=visit.id, engineer_id=engineer_id, checker_id=principal.subject, items=items,
                          findings=body.findings, checked_at=utcnow())
    session.add(check)
    payload: SelfCheckCompleted | CrossCheckCompleted
    if engineer_id == principal.subject:
        payload = SelfCheckCompleted(case_id=visit.case_id, visit_id=visit.id, engineer_id=engineer_id, items=items)
    else:
        payload = CrossCheckCompleted(case_id=visit.case_id, visit_id=visit.id, checked_engineer_id=engineer_id,
                                      checker_id=principal.subject, items=items)
    emit(session, payload, case_id=visit.case_id, actor=principal.actor)
    await session.flush()
    return check


async def checks(*, session: AsyncSession, visit_id: UUID) -> list[EngineerCheck]:
    return await visits.rows_on(session, EngineerCheck, visit_id, col(EngineerCheck.checked_at))


# ---------------------------------------------------------------- S27, S28, S29

async def confirm_cleanup(*, session: AsyncSession, visit_id: UUID, body: CleanupCreate,
                          principal: Principal) -> ClosingRecord:
    """S27: the site and the equipment cleaned up, confirmed with the customer -> CleanupConfirmed."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    record = await _closing(session, visit)
    domain.check_cleanup(site_clean=body.site_clean, equipment_clean=body.equipment_clean,
                         already_confirmed=record.cleanup_confirmed_at is not None)
    record.cleanup_confirmed_by, record.cleanup_customer_confirmed_by = principal.subject, body.customer_confirmed_by
    record.cleanup_confirmed_at = utcnow()
    emit(session, CleanupConfirmed(case_id=visit.case_id, visit_id=visit.id, confirmed_by=principal.subject),
         case_id=visit.case_id, actor=principal.actor)
    return record


async def record_handover(*, session: AsyncSession, visit_id: UUID, body: HandoverCreate,
                          principal: Principal) -> Handover:
    """S28: accessories and spare parts handed over with the receiver's signature -> HandoverCompleted."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    handover = Handover(visit_id=visit.id, items=[i.model_dump() for i in body.items], received_by=body.received_by,
                        signature=body.signature.model_dump(mode="json"), handed_over_by=principal.subject,
                        handed_over_at=utcnow())
    session.add(handover)
    record = await _closing(session, visit)
    record.handover_done_at = handover.handed_over_at
    await session.flush()
    emit(session, HandoverCompleted(case_id=visit.case_id, visit_id=visit.id, handover_id=handover.id,
                                    items=sum(i.quantity for i in body.items), received_by=body.received_by),
         case_id=visit.case_id, actor=principal.actor)
    return handover


async def take_back_for_repair(*, session: AsyncSession, visit_id: UUID, body: RepairTakeBackCreate,
                               principal: Principal) -> RepairTakeBack:
    """S28: damaged equipment taken back; the receipt stays with the customer -> RepairRequested (quality opens
    the repair order)."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    if (await session.execute(select(col(RepairTakeBack.id)).where(
            col(RepairTakeBack.receipt_number) == body.receipt_number))).first():
        raise Conflict(msg("receipt {receipt_number} is already used", receipt_number=body.receipt_number))
    repair = RepairTakeBack(visit_id=visit.id, receipt_number=body.receipt_number, equipment=body.equipment,
                            serial_number=body.serial_number, fault=body.fault, taken_by=principal.subject,
                            taken_at=utcnow())
    session.add(repair)
    await session.flush()
    emit(session, RepairRequested(
        case_id=visit.case_id, visit_id=visit.id, repair_request_id=repair.id, receipt_number=body.receipt_number,
        equipment=body.equipment, serial_number=body.serial_number, fault=body.fault,
        customer_name=visit.customer_name,
    ), case_id=visit.case_id, actor=principal.actor)
    return repair


async def record_drawing_revision(*, session: AsyncSession, visit_id: UUID, body: DrawingRevisionCreate,
                                  principal: Principal) -> DrawingRevision:
    """S29: a drawing deviation, the original kept -> DrawingRevisionRecorded."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    revision = DrawingRevision(visit_id=visit.id, drawing_number=body.drawing_number, deviation=body.deviation,
                               original_kept_at=body.original_kept_at, recorded_by=principal.subject,
                               recorded_at=utcnow())
    session.add(revision)
    await session.flush()
    emit(session, DrawingRevisionRecorded(case_id=visit.case_id, visit_id=visit.id, revision_id=revision.id,
                                          drawing_number=body.drawing_number),
         case_id=visit.case_id, actor=principal.actor)
    return revision


async def dispatch_drawings(*, session: AsyncSession, visit_id: UUID, body: DrawingsDispatch,
                            principal: Principal) -> list[DrawingRevision]:
    """S29: revised drawings sent to the company and mailed to the customer -> DrawingsDispatched."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    revisions = list((await session.execute(select(DrawingRevision).where(
        col(DrawingRevision.visit_id) == visit.id, col(DrawingRevision.id).in_(body.revision_ids))
        .with_for_update())).scalars())
    unknown = set(body.revision_ids) - {r.id for r in revisions}
    if unknown:
        raise NotFound(msg("drawing revisions not on this visit: {revisions}",
                           revisions=", ".join(sorted(map(str, unknown)))))
    if already := [r.drawing_number for r in revisions if r.sent_to_company_at is not None]:
        raise GateRefused(msg("drawings dispatch"),
                          [msg("S29: drawing {drawing} is already dispatched", drawing=d) for d in already])
    for r in revisions:
        r.sent_to_company_at, r.mailed_to_customer_at = body.sent_to_company_at, body.mailed_to_customer_at
        r.tracking_number = body.tracking_number
    emit(session, DrawingsDispatched(
        case_id=visit.case_id, visit_id=visit.id, revision_ids=[r.id for r in revisions],
        sent_to_company_at=body.sent_to_company_at, mailed_to_customer_at=body.mailed_to_customer_at,
        tracking_number=body.tracking_number,
    ), case_id=visit.case_id, actor=principal.actor)
    return revisions


async def declare_no_drawing_deviations(*, session: AsyncSession, visit_id: UUID,
                                        principal: Principal) -> ClosingRecord:
    """S29: nothing deviated from the drawings (so there is nothing to send)."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    if (await session.execute(
            select(col(DrawingRevision.id)).where(col(DrawingRevision.visit_id) == visit.id))).first():
        raise GateRefused(msg("no drawing deviations"),
                          [msg("S29: drawing revisions are recorded on this visit; dispatch them instead")])
    record = await _closing(session, visit)
    if not record.no_drawing_deviations:
        record.no_drawing_deviations = True
        emit(session, NoDrawingDeviationsDeclared(case_id=visit.case_id, visit_id=visit.id,
                                                  declared_by=principal.subject),
             case_id=visit.case_id, actor=principal.actor)
    return record


async def drawing_revisions(*, session: AsyncSession, visit_id: UUID) -> list[DrawingRevision]:
    return await visits.rows_on(session, DrawingRevision, visit_id, col(DrawingRevision.recorded_at))


# ---------------------------------------------------------------- S30

async def completion_missing(*, session: AsyncSession, visit: SiteVisit) -> list[str]:
    """Everything the S30 gate still needs for this visit: the work finished (S13, S17, S19, S25), S26-S29."""
    arrived = (await session.execute(select(col(ThreeCallsRecord.id)).where(
        col(ThreeCallsRecord.visit_id) == visit.id).limit(1))).first() is not None
    pairs = [(c.engineer_id, c.checker_id) for c in await checks(session=session, visit_id=visit.id)]
    s26 = domain.s26_missing(team=visit.engineer_ids, checks=pairs,
                             unrecorded_items=await unrecorded_items(session, visit.id))
    record = await session.get(ClosingRecord, visit.id)
    revisions = await drawing_revisions(session=session, visit_id=visit.id)
    issues = (await session.execute(
        select(VisitQualityIssue).where(col(VisitQualityIssue.visit_id) == visit.id))).scalars()
    return domain.completion_missing(
        arrived=arrived, already_completed=visit.status == VisitStatus.COMPLETED,
        work=domain.work_missing(await work_state(session, visit.id)), s26=s26,
        cleanup_confirmed=bool(record and record.cleanup_confirmed_at),
        handover_done=bool(record and record.handover_done_at),
        drawing_revisions=len(revisions),
        revisions_not_dispatched=[r.drawing_number for r in revisions
                                  if r.sent_to_company_at is None or r.mailed_to_customer_at is None],
        no_drawing_deviations=bool(record and record.no_drawing_deviations),
        issues=[domain.IssueView(str(i.issue_id), i.status, i.escalated) for i in issues],
    )


async def complete(*, session: AsyncSession, visit_id: UUID, body: CompletionCreate, principal: Principal,
                   if_match: str | None, storage: FileStorage | None = None) -> SiteVisit:
    """S30: report, ratings and the signed receipt complete the service -> ServiceCompleted (once)."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    check_if_match(if_match, visit.version)
    missing = await completion_missing(session=session, visit=visit)
    if missing:
        raise GateRefused(msg("completion"), missing)
    if body.receipt_signature is not None:
        tasks = await work.tasks(session=session, visit_id=visit.id)
        visits.check_reported(visit, step=msg("S30 receipt"), field="body.receipt_signature.signed_at",
                              at=body.receipt_signature.signed_at, after=[
                                  Earlier(msg("the first arrival on site"), await visits.arrived_at(session, visit.id)),
                                  Earlier(msg("the last task done"), latest([t.done_at for t in tasks]))])
    now = utcnow()
    signature = body.receipt_signature.model_dump(mode="json") if body.receipt_signature else {
        "kind": "typed", "typed_name": body.receipt_signed_by, "signed_at": now.isoformat()}
    session.add(ServiceReport(
        visit_id=visit.id, work_done=body.work_done, operating_advice=body.operating_advice,
        unfinished_items=[u.model_dump(mode="json") for u in body.unfinished_items],
        aspect_ratings=[a.model_dump() for a in body.aspect_ratings], customer_comment=body.receipt_comment,
        receipt_signed_by=body.receipt_signed_by, receipt_signature=signature, signed_off_by=principal.subject,
        signed_off_at=now,
    ))
    visit.status, visit.completed_at = VisitStatus.COMPLETED, now
    visit.receipt_signed_by, visit.receipt_rating = body.receipt_signed_by, body.receipt_rating
    visits.touch(visit, principal)
    await session.flush()
    signed = await sign_report(session=session, visit=visit, storage=storage)
    emit(session, ServiceCompleted(
        case_id=visit.case_id, visit_id=visit.id, completed_at=now, customer_name=visit.customer_name,
        region=visit.region, equipment_type=visit.equipment_type, engineer_ids=visit.engineer_ids,
        receipt_rating=body.receipt_rating, receipt_comment=body.receipt_comment,
        aspect_ratings=[AspectRating(aspect=a.aspect, score=a.score) for a in body.aspect_ratings],
        unfinished_items=len(body.unfinished_items), report_sha256=signed.report_sha256,
    ), case_id=visit.case_id, actor=principal.actor)
    return visit


# ---------------------------------------------------------------- S30 the service report and its integrity

async def _signature_image(session: AsyncSession, storage: FileStorage | None, receipt: report.Receipt | None,
                           visit_id: UUID) -> bytes | None:
    if storage is None or receipt is None or receipt.signature_evidence_id is None:
        return None
    image = await session.get(EvidenceFile, UUID(receipt.signature_evidence_id))
    if image is None or image.visit_id != visit_id:
        return None
    try:
        return await evidence.content(storage=storage, evidence=image)
    except Problem:
        return None


async def sign_report(*, session: AsyncSession, visit: SiteVisit, storage: FileStorage | None) -> ServiceReport:
    """S30: freeze the report's content with the signed receipt and record the PDF's SHA-256."""
    signed = await session.get(ServiceReport, visit.id)
    if signed is None:
        raise Conflict(msg("S30: the service receipt is not signed"))
    data = await report.gather(session=session, visit=visit, zone=site_calendar().zone(visit.region), report=signed)
    pdf = report.render_pdf(data, await _signature_image(session, storage, data.receipt, visit.id))
    signed.report_snapshot, signed.report_sha256 = data.model_dump(mode="json"), report.sha256(pdf)
    return signed


async def report_pdf(*, session: AsyncSession, visit: SiteVisit, storage: FileStorage | None) -> bytes:
    """The service report: once signed, rendered from the frozen snapshot (the same bytes every time);
    before that, a draft from the visit's current records."""
    signed = await session.get(ServiceReport, visit.id)
    if signed is not None and signed.report_snapshot is not None:
        data = report.ReportData.model_validate(signed.report_snapshot)
    else:
        data = await report.gather(session=session, visit=visit, zone=site_calendar().zone(visit.region),
                                   report=signed)
    return report.render_pdf(data, await _signature_image(session, storage, data.receipt, visit.id))


async def verify_report(*, session: AsyncSession, visit: SiteVisit, pdf: bytes) -> ReportVerification:
    """S30: is this PDF the report the customer signed? (its SHA-256 against the one recorded at signing)"""
    signed = await session.get(ServiceReport, visit.id)
    digest = report.sha256(pdf)
    recorded = signed.report_sha256 if signed else None
    return ReportVerification(matches=recorded is not None and digest == recorded, sha256=digest,
                              signed_sha256=recorded, signed_at=signed.signed_off_at if signed else None)


# ---------------------------------------------------------------- S33

async def depart(*, session: AsyncSession, visit_id: UUID, body: DepartureCreate, principal: Principal) -> Departure:
    """S33: an engineer leaves; the last departure closes the visit -> EngineerDeparted."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    departures = list((await session.execute(select(Departure).where(col(Departure.visit_id) == visit.id))).scalars())
    pending = [t.title for t in (await session.execute(select(SiteTask).where(
        col(SiteTask.visit_id) == visit.id, col(SiteTask.status) != TaskStatus.DONE))).scalars()]
    domain.check_departure_gate(
        completed=visit.status == VisitStatus.COMPLETED,
        already_departed=any(d.engineer_id == principal.subject for d in departures),
        regional_centre_informed=body.regional_centre_informed_at is not None,
        department_head_informed=body.department_head_informed_at is not None,
        site_manager_agreed=bool((body.site_manager_agreed_by or "").strip()), pending_tasks=pending,
    )
    # the gate above refused a departure without these
    assert body.regional_centre_informed_at is not None and body.department_head_informed_at is not None
    assert body.site_manager_agreed_by is not None
    receipt = await session.get(ServiceReport, visit.id)
    visits.check_reported(visit, step=msg("S33 departure"), field="body.departed_at", at=body.departed_at, after=[
        Earlier(msg("the engineer's arrival"), await visits.arrived_at(session, visit.id, principal.subject)),
        Earlier(msg("the signed receipt"), _receipt_signed_at(receipt))])
    for field in ("regional_centre_informed_at", "department_head_informed_at"):
        visits.check_reported(visit, step=msg("S33 departure"), field=f"body.{field}", at=getattr(body, field))
    departure = Departure(
        visit_id=visit.id, engineer_id=principal.subject, departed_at=body.departed_at,
        regional_centre_informed_at=body.regional_centre_informed_at,
        department_head_informed_at=body.department_head_informed_at,
        site_manager_agreed_by=body.site_manager_agreed_by,
    )
    session.add(departure)
    # Engineers who left mid-way with consent or an approved exception (S21) will not depart again.
    left = set((await session.execute(select(col(LeaveRequest.engineer_id)).where(
        col(LeaveRequest.visit_id) == visit.id, col(LeaveRequest.may_leave).is_(True)))).scalars())
    gone = {d.engineer_id for d in departures} | left | {principal.subject}
    last = set(visit.engineer_ids) <= gone
    if last:
        visit.closed_at = utcnow()
    visits.touch(visit, principal)
    emit(session, EngineerDeparted(case_id=visit.case_id, visit_id=visit.id, engineer_id=principal.subject,
                                   departed_at=body.departed_at, visit_closed=last),
         case_id=visit.case_id, actor=principal.actor)
    await session.flush()
    return departure


def _receipt_signed_at(receipt: ServiceReport | None) -> datetime | None:
    """When the customer signed the receipt (the signature's time, else when it was recorded)."""
    if receipt is None:
        return None
    signed = (receipt.receipt_signature or {}).get("signed_at")
    return datetime.fromisoformat(signed) if signed else receipt.signed_off_at


async def departures(*, session: AsyncSession, visit_id: UUID) -> list[Departure]:
    return await visits.rows_on(session, Departure, visit_id, col(Departure.departed_at))
