"""Records kept on site (S15, S16, S18, S21-S24, S31, S32): plain async functions, never committing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.events import emit
from services.onsite.evidence.models import EvidenceFile
from services.onsite.presence.models import DailyPresence
from services.onsite.site_days import site_calendar
from services.onsite.site_records import domain
from services.onsite.site_records.models import (
    CommunicationCreate,
    CommunicationEntry,
    CustomerInformation,
    CustomerInformationCreate,
    CustomerReport,
    CustomerReportCreate,
    LeaveCreate,
    LeaveRequest,
    ProcessRecord,
    ProcessRecordCreate,
    RaisedItem,
    RaisedItemCreate,
    TrainingCreate,
    TrainingMaterial,
    TrainingMaterialCreate,
    TrainingSession,
)
from services.onsite.visits import service as visits
from services.onsite.visits.models import SiteVisit, ThreeCallsRecord, VisitStatus
from shared.api.auth import Principal
from shared.api.problems import Conflict, NotFound
from shared.clock import utcnow
from shared.events.dispatch import RoutedItemAnswered, RoutedItemAssigned
from shared.events.onsite import (
    CommunicationLogged,
    CustomerInformationCaptured,
    CustomerReportOverdue,
    CustomerReportSent,
    CustomerRequestEscalated,
    InternalDisagreementRaised,
    LeaveDecided,
    LeaveExceptionApproved,
    LeaveRefusalBreached,
    ProcessRecordAdded,
    ReferralRaised,
    TrainingDelivered,
)
from shared.messages import msg

# The records of a visit listed page by page (each kind has its visit_id).
VisitRecord = TypeVar("VisitRecord", CommunicationEntry, CustomerReport, ProcessRecord, LeaveRequest, RaisedItem,
                      TrainingSession, CustomerInformation)


async def list_of(*, session: AsyncSession, model: type[VisitRecord], visit_id: UUID, at: Any, limit: int,
                  cursor: str | None) -> tuple[list[VisitRecord], str | None]:
    """One page of the rows of one record kind on a visit, oldest first."""
    return await visits.page_on(session, model, visit_id, at, limit=limit, cursor=cursor)


async def log_communication(*, session: AsyncSession, visit_id: UUID, body: CommunicationCreate,
                            principal: Principal) -> CommunicationEntry:
    """S15 -> CommunicationLogged."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    entry = CommunicationEntry(visit_id=visit.id, kind=body.kind, text=body.text, counterpart=body.counterpart,
                               logged_by=principal.subject, logged_at=utcnow())
    session.add(entry)
    await session.flush()
    emit(session, CommunicationLogged(case_id=visit.case_id, visit_id=visit.id, entry_id=entry.id, kind=body.kind,
                                      logged_by=principal.subject), case_id=visit.case_id, actor=principal.actor)
    return entry


async def send_customer_report(*, session: AsyncSession, visit_id: UUID, body: CustomerReportCreate,
                               principal: Principal) -> CustomerReport:
    """S16: a periodic report with the customer's opinion; a disagreement may be escalated -> CustomerReportSent."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    domain.check_customer_report(customer_agrees=body.customer_agrees, escalate_to=body.escalate_to)
    report = CustomerReport(visit_id=visit.id, summary=body.summary, customer_opinion=body.customer_opinion,
                            customer_agrees=body.customer_agrees, escalated_to=body.escalate_to,
                            sent_by=principal.subject, sent_at=utcnow())
    session.add(report)
    await session.flush()
    emit(session, CustomerReportSent(case_id=visit.case_id, visit_id=visit.id, report_id=report.id,
                                     customer_agrees=body.customer_agrees, escalated=body.escalate_to is not None),
         case_id=visit.case_id, actor=principal.actor)
    return report


async def add_process_record(*, session: AsyncSession, visit_id: UUID, body: ProcessRecordCreate,
                             principal: Principal) -> ProcessRecord:
    """S18 -> ProcessRecordAdded. A drawing modification says why and who approved it."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    evidence_found: bool | None = None
    if body.change_document_evidence_id is not None:
        found = (await session.execute(select(col(EvidenceFile.id)).where(
            col(EvidenceFile.id) == body.change_document_evidence_id, col(EvidenceFile.visit_id) == visit.id))).first()
        evidence_found = found is not None
    domain.check_process_record(kind=body.kind, reason=body.reason, approved_by=body.approved_by,
                                participants=body.participants, change_document=body.change_document,
                                change_document_evidence=evidence_found)
    record = ProcessRecord(visit_id=visit.id, kind=body.kind, title=body.title, description=body.description,
                           reason=body.reason, approved_by=body.approved_by, participants=body.participants,
                           change_document=body.change_document,
                           change_document_evidence_id=body.change_document_evidence_id,
                           recorded_by=principal.subject, recorded_at=utcnow())
    session.add(record)
    await session.flush()
    emit(session, ProcessRecordAdded(case_id=visit.case_id, visit_id=visit.id, record_id=record.id,
                                     kind=body.kind), case_id=visit.case_id, actor=principal.actor)
    return record


async def decide_leave(*, session: AsyncSession, visit_id: UUID, body: LeaveCreate,
                       principal: Principal) -> LeaveRequest:
    """S21: leaving mid-way needs the site manager's consent (or an approved exception) -> LeaveDecided."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    allowed = domain.may_leave(consent=body.consent, exception_reason=body.exception_reason,
                               exception_approved_by=None)
    leave = LeaveRequest(visit_id=visit.id, engineer_id=principal.subject, reason=body.reason,
                         site_manager=body.site_manager, consent=body.consent, exception_reason=body.exception_reason,
                         exception_approved_by=None, may_leave=allowed, decided_at=utcnow())
    session.add(leave)
    await session.flush()
    emit(session, LeaveDecided(case_id=visit.case_id, visit_id=visit.id, leave_id=leave.id,
                               engineer_id=principal.subject, consent=body.consent,
                               exception_approved=not body.consent and allowed),
         case_id=visit.case_id, actor=principal.actor)
    return leave


async def approve_leave_exception(*, session: AsyncSession, visit_id: UUID, leave_id: UUID,
                                  principal: Principal) -> LeaveRequest:
    """S21: a department head (the authorised role) approves the exception of a refused leave ->
    LeaveExceptionApproved; the engineer may then leave."""
    visit = await visits.get(session=session, visit_id=visit_id, principal=principal, for_update=True)
    leave = (await session.execute(select(LeaveRequest).where(
        col(LeaveRequest.id) == leave_id, col(LeaveRequest.visit_id) == visit.id)
        .with_for_update())).scalar_one_or_none()
    if leave is None:
        raise NotFound(msg("leave request {leave_id} is not on this visit", leave_id=leave_id))
    domain.check_exception_approval(consent=leave.consent, exception_reason=leave.exception_reason,
                                    already_approved=leave.exception_approved_at is not None)
    leave.exception_approved_by, leave.exception_approved_at = principal.subject, utcnow()
    leave.may_leave = domain.may_leave(consent=leave.consent, exception_reason=leave.exception_reason,
                                       exception_approved_by=principal.subject)
    emit(session, LeaveExceptionApproved(case_id=visit.case_id, visit_id=visit.id, leave_id=leave.id,
                                         engineer_id=leave.engineer_id, exception_reason=leave.exception_reason or "",
                                         approved_by=principal.subject),
         case_id=visit.case_id, actor=principal.actor)
    return leave


async def flag_refused_leave(*, session: AsyncSession, now: datetime) -> int:
    """S21 periodic check: an engineer refused leave (no approved exception) who signs in at another site
    afterwards, or has a day after the refusal without a sign-in on the still-open visit, is flagged once
    -> LeaveRefusalBreached."""
    rows = (await session.execute(
        select(LeaveRequest, SiteVisit).join(SiteVisit, col(SiteVisit.id) == col(LeaveRequest.visit_id))
        .where(col(LeaveRequest.may_leave).is_(False), col(LeaveRequest.breach_flagged_at).is_(None),
               col(SiteVisit.completed_at).is_(None))
        .with_for_update(of=LeaveRequest, skip_locked=True))).all()
    flags = 0
    calendar = site_calendar()
    for leave, visit in rows:
        decided_on = calendar.day(leave.decided_at, visit.region)  # the site's days, like the sign-ins (S10)
        presence = (await session.execute(select(col(DailyPresence.visit_id), col(DailyPresence.day)).where(
            col(DailyPresence.engineer_id) == leave.engineer_id, col(DailyPresence.day) > decided_on))).all()
        breach = domain.refused_leave_breach(
            decided_on=decided_on, today=calendar.day(now, visit.region),
            signed_in_days=[d for v, d in presence if v == visit.id],
            elsewhere_days=[d for v, d in presence if v != visit.id])
        if breach is None:
            continue
        how, day = breach
        leave.breach_flagged_at = now
        emit(session, LeaveRefusalBreached(case_id=visit.case_id, visit_id=visit.id, leave_id=leave.id,
                                           engineer_id=leave.engineer_id, how=how, day=day),
             case_id=visit.case_id, actor="system:onsite")
        flags += 1
    return flags


async def flag_overdue_reports(*, session: AsyncSession, now: datetime) -> int:
    """S16 periodic check: an open visit whose last report to the customer (or arrival) is older than the
    plan's reporting period is flagged once per missed due date -> CustomerReportOverdue."""
    last_report = (select(col(CustomerReport.visit_id), func.max(col(CustomerReport.sent_at)).label("at"))
                   .group_by(col(CustomerReport.visit_id)).subquery())
    arrival = (select(col(ThreeCallsRecord.visit_id), func.min(col(ThreeCallsRecord.arrived_at)).label("at"))
               .group_by(col(ThreeCallsRecord.visit_id)).subquery())
    rows = (await session.execute(
        select(SiteVisit, last_report.c.at, arrival.c.at)
        .join(arrival, arrival.c.visit_id == col(SiteVisit.id))
        .outerjoin(last_report, last_report.c.visit_id == col(SiteVisit.id))
        .where(col(SiteVisit.status) == VisitStatus.ON_SITE, col(SiteVisit.plan).is_not(None))
        .with_for_update(of=SiteVisit, skip_locked=True))).all()
    flags = 0
    for visit, reported_at, arrived_at in rows:
        period = (visit.plan or {}).get("report_period_days")
        due = domain.report_overdue(period_days=period, since=reported_at or arrived_at, now=now)
        if due is None or visit.report_overdue_due == due:
            continue
        visit.report_overdue_due = due
        emit(session, CustomerReportOverdue(case_id=visit.case_id, visit_id=visit.id, period_days=period,
                                            due_at=due, last_report_at=reported_at),
             case_id=visit.case_id, actor="system:onsite")
        flags += 1
    return flags


async def raise_item(*, session: AsyncSession, visit_id: UUID, body: RaisedItemCreate,
                     principal: Principal) -> RaisedItem:
    """S22-S24: registered on site (never refused), routed by dispatch, tracked until answered."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    subject = domain.raised_subject(kind=body.kind, product=body.product, topic=body.topic, units=body.units)
    item = RaisedItem(visit_id=visit.id, kind=body.kind, summary=body.summary, details=body.details, subject=subject,
                      raised_by=principal.subject, raised_at=utcnow())
    session.add(item)
    await session.flush()
    common = dict(case_id=visit.case_id, visit_id=visit.id, item_id=item.id, raised_by=principal.subject,
                  summary=body.summary, details=body.details)
    payload: ReferralRaised | CustomerRequestEscalated | InternalDisagreementRaised
    if body.kind == "referral":
        payload = ReferralRaised(**common, product=subject)
    elif body.kind == "abnormal_request":
        payload = CustomerRequestEscalated(**common, topic=body.topic)
    else:
        payload = InternalDisagreementRaised(**common, units=body.units)
    emit(session, payload, case_id=visit.case_id, actor=principal.actor)
    return item


async def item_routed(*, session: AsyncSession, event: RoutedItemAssigned | RoutedItemAnswered) -> None:
    """Dispatch routed or answered an item raised on site (idempotent: the same fact again changes nothing)."""
    item = await session.get(RaisedItem, event.item_id, with_for_update=True)
    if item is None:
        return
    if isinstance(event, RoutedItemAssigned):
        if item.status == "open":
            item.status, item.unit = "assigned", event.unit
        return
    item.status, item.answer, item.answered_by = "answered", event.answer, event.answered_by
    item.answered_at = item.answered_at or utcnow()


async def add_training_material(*, session: AsyncSession, body: TrainingMaterialCreate,
                                principal: Principal) -> TrainingMaterial:
    """S31: the catalogue of training materials, with approval status."""
    if await session.get(TrainingMaterial, body.code) is not None:
        raise Conflict(msg("training material {code} already exists", code=body.code))
    material = TrainingMaterial(code=body.code, title=body.title, approved=body.approved,
                                approved_by=principal.subject if body.approved else None, created_at=utcnow())
    session.add(material)
    return material


async def deliver_training(*, session: AsyncSession, visit_id: UUID, body: TrainingCreate,
                           principal: Principal) -> TrainingSession:
    """S31: training with approved materials only -> TrainingDelivered."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    catalogue = {m.code: m.approved for m in (await session.execute(
        select(TrainingMaterial).where(col(TrainingMaterial.code).in_(body.materials)))).scalars()}
    domain.check_training_materials(body.materials, catalogue)
    domain.check_training_evaluation(evaluation_scores=body.evaluation_scores,
                                     evaluation_declined=body.evaluation_declined)
    training = TrainingSession(visit_id=visit.id, topics=list(body.topics), materials=body.materials,
                               attendees=body.attendees, demonstration=body.demonstration,
                               evaluation_scores=body.evaluation_scores,
                               evaluation_declined=body.evaluation_declined, test_scores=body.test_scores,
                               delivered_by=principal.subject, delivered_at=body.delivered_at)
    session.add(training)
    await session.flush()
    emit(session, TrainingDelivered(
        case_id=visit.case_id, visit_id=visit.id, training_id=training.id, topics=body.topics,
        attendees=len(body.attendees), materials=body.materials, evaluation_scores=body.evaluation_scores,
        test_scores=body.test_scores, customer_name=visit.customer_name, region=visit.region,
        equipment_type=visit.equipment_type, evaluation_declined=body.evaluation_declined,
    ), case_id=visit.case_id, actor=principal.actor)
    return training


async def capture_customer_information(*, session: AsyncSession, visit_id: UUID, body: CustomerInformationCreate,
                                       principal: Principal) -> CustomerInformation:
    """S32 -> CustomerInformationCaptured (the feedback service routes it and tracks it to closure)."""
    visit = await visits.get_for_team_member(session=session, visit_id=visit_id, principal=principal)
    info = CustomerInformation(visit_id=visit.id, kind=body.kind, text=body.text, captured_by=principal.subject,
                               captured_at=utcnow())
    session.add(info)
    await session.flush()
    emit(session, CustomerInformationCaptured(
        case_id=visit.case_id, visit_id=visit.id, info_id=info.id, kind=body.kind, text=body.text,
        customer_name=visit.customer_name, region=visit.region,
    ), case_id=visit.case_id, actor=principal.actor)
    return info
