"""Records kept on site (S15, S16, S18, S21-S24, S31, S32): plain async functions, never committing."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.events import emit
from services.onsite.paging import keyset_page
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
from shared.api.auth import Principal
from shared.api.problems import Conflict, InvalidInput
from shared.clock import utcnow
from shared.events.dispatch import RoutedItemAnswered, RoutedItemAssigned
from shared.events.onsite import (
    CommunicationLogged,
    CustomerInformationCaptured,
    CustomerReportSent,
    CustomerRequestEscalated,
    InternalDisagreementRaised,
    LeaveDecided,
    ProcessRecordAdded,
    ReferralRaised,
    TrainingDelivered,
)

Row = TypeVar("Row", bound=SQLModel)


async def list_of(*, session: AsyncSession, model: type[Row], visit_id: UUID, at: Any, limit: int,
                  cursor: str | None) -> tuple[list[Row], str | None]:
    """One page of the rows of one record kind on a visit, oldest first."""
    stmt = select(model).where(model.visit_id == visit_id)  # type: ignore[attr-defined]
    return await keyset_page(session, stmt, model=model, at=at, limit=limit, cursor=cursor)


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
    if body.escalate_to and body.customer_agrees is not False:
        raise InvalidInput("only a disagreement of the customer is escalated (customer_agrees: false)",
                           field="escalate_to")
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
    if body.kind == "drawing_modification" and not (body.reason and body.approved_by):
        raise InvalidInput("a drawing modification records why (reason) and who approved it (approved_by)",
                           field="approved_by")
    if body.kind == "meeting_minutes" and len(body.participants) < 2:
        raise InvalidInput("minutes of a multi-department meeting list its participants", field="participants")
    record = ProcessRecord(visit_id=visit.id, kind=body.kind, title=body.title, description=body.description,
                           reason=body.reason, approved_by=body.approved_by, participants=body.participants,
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
                               exception_approved_by=body.exception_approved_by)
    leave = LeaveRequest(visit_id=visit.id, engineer_id=principal.subject, reason=body.reason,
                         site_manager=body.site_manager, consent=body.consent, exception_reason=body.exception_reason,
                         exception_approved_by=body.exception_approved_by, may_leave=allowed, decided_at=utcnow())
    session.add(leave)
    await session.flush()
    emit(session, LeaveDecided(case_id=visit.case_id, visit_id=visit.id, leave_id=leave.id,
                               engineer_id=principal.subject, consent=body.consent,
                               exception_approved=not body.consent and allowed),
         case_id=visit.case_id, actor=principal.actor)
    return leave


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
        payload = CustomerRequestEscalated(**common, topic=body.topic)  # type: ignore[arg-type]
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
        raise Conflict(f"training material {body.code} already exists")
    material = TrainingMaterial(code=body.code, title=body.title, approved=body.approved,
                                approved_by=principal.subject if body.approved else None, created_at=utcnow())
    session.add(material)
    return material


async def deliver_training(*, session: AsyncSession, visit_id: UUID, body: TrainingCreate,
                           principal: Principal) -> TrainingSession:
    """S31: training with approved materials only -> TrainingDelivered."""
    visit = await visits.get_open_for_team(session=session, visit_id=visit_id, principal=principal)
    catalogue = {m.code: m.approved for m in (await session.execute(
        select(TrainingMaterial).where(TrainingMaterial.code.in_(body.materials)))).scalars()}
    domain.check_training_materials(body.materials, catalogue)
    training = TrainingSession(visit_id=visit.id, topics=list(body.topics), materials=body.materials,
                               attendees=body.attendees, demonstration=body.demonstration,
                               evaluation_scores=body.evaluation_scores, test_scores=body.test_scores,
                               delivered_by=principal.subject, delivered_at=body.delivered_at)
    session.add(training)
    await session.flush()
    emit(session, TrainingDelivered(
        case_id=visit.case_id, visit_id=visit.id, training_id=training.id, topics=body.topics,
        attendees=len(body.attendees), materials=body.materials, evaluation_scores=body.evaluation_scores,
        test_scores=body.test_scores, customer_name=visit.customer_name, region=visit.region,
        equipment_type=visit.equipment_type,
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
