"""S7 operation: reschedule the arrival -> ArrivalRescheduled (the team's bookings move with it).

With `inform: true` (decision 0090) the system tells the customer and the regional centre itself: the
request is checked as usual but for the notifications, recorded, and the two messages queued; the
arrival moves when both were sent (`settle_informed`, called by the notification worker), with their
sent times as the notified-at times, or the request is refused if a message fails or the moved window
no longer passes S3 by then."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.delays import domain
from services.dispatch.delays.models import (
    ArrivalReschedule,
    ArrivalRescheduleRequest,
    ArrivalRescheduleRequestRead,
    RescheduleStatus,
)
from services.dispatch.events import emit
from services.dispatch.notifications import service as notifications
from services.dispatch.notifications.domain import Audience, NotificationStatus, rule_for
from services.dispatch.notifications.models import Notification
from services.dispatch.settings import DispatchSettings
from services.dispatch.staffing import service as staffing
from services.dispatch.staffing.domain import Candidate, Requirement
from services.dispatch.staffing.models import EngineerAssignment, TeamChoice
from shared.api.concurrency import check_if_match
from shared.api.problems import NotFound
from shared.events import EventEnvelope
from shared.events.dispatch import ArrivalRescheduled
from shared.messages import msg
from shared.problems import GateRefused


async def _check(session: AsyncSession, case: ServiceCase, new_arrival: datetime,
                 customer_notified_at: datetime | None, regional_centre_notified_at: datetime | None,
                 informing: bool = False) -> tuple[datetime, datetime | None, list[TeamChoice]]:
    """The S7 gate for moving `case` to `new_arrival`; the moved window and the team whose bookings move."""
    start, end = domain.moved_window(case.planned_start, case.planned_end, new_arrival)
    choices = [TeamChoice(engineer_id=m["engineer_id"], is_project_manager=bool(m.get("is_project_manager")))
               for m in case.team]
    team: list[Candidate] = []
    unknown: list[str] = []
    requirement: Requirement | None = None
    if choices and end is not None:
        requirement, _ = await staffing.requirement(session=session, case=case,
                                                    version=case.staffing_policy_version or 0)
        team, unknown = await staffing.candidates(session=session, choices=choices, start=start, end=end,
                                                  exclude_case=case.id)
    domain.check_reschedule(CaseStatus(case.status), customer_notified_at, regional_centre_notified_at,
                            team=team, unknown=unknown, requirement=requirement, start=start, end=end,
                            informing=informing)
    return start, end, choices


async def _move(session: AsyncSession, case: ServiceCase, *, new_arrival: datetime, reason: str,
                customer_notified_at: datetime, regional_centre_notified_at: datetime, actor: str,
                informed_by_system: bool = False) -> ServiceCase:
    """Move the planned window and the team's bookings to the new arrival -> ArrivalRescheduled."""
    start, end, choices = await _check(session, case, new_arrival, customer_notified_at,
                                       regional_centre_notified_at)
    previous = case.planned_start or case.required_arrival
    if case.planned_start is not None:
        shift = start - case.planned_start
        bookings = (await session.execute(select(EngineerAssignment).where(
            col(EngineerAssignment.case_id) == case.id, col(EngineerAssignment.released_at).is_(None))
            .order_by(col(EngineerAssignment.engineer_id)).with_for_update())).scalars()
        for booking in bookings:
            booking.planned_start, booking.planned_end = booking.planned_start + shift, booking.planned_end + shift
    case.planned_start, case.planned_end = start, end
    cases.touch(case, actor)
    emit(session, ArrivalRescheduled(
        case_id=case.id, previous_arrival=previous, new_arrival=new_arrival, reason=reason,
        customer_notified_at=customer_notified_at, regional_centre_notified_at=regional_centre_notified_at,
        planned_start=start, planned_end=end, engineer_ids=[c.engineer_id for c in choices],
        informed_by_system=informed_by_system,
    ), case_id=case.id, actor=actor)
    return case


async def reschedule(*, session: AsyncSession, case_id: UUID, body: ArrivalReschedule, actor: str,
                     if_match: str | None) -> ServiceCase:
    """S7: move the planned window to the new arrival after re-checking the team under the S3 rules.

    The case and then the engineers are locked in the order S3's `assign` locks them, so a
    reschedule and an assignment of the same engineer serialise instead of both booking them.
    """
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    if body.customer_notified_at is None or body.regional_centre_notified_at is None:
        await _check(session, case, body.new_arrival, body.customer_notified_at, body.regional_centre_notified_at)
    assert body.customer_notified_at is not None and body.regional_centre_notified_at is not None  # checked
    return await _move(session, case, new_arrival=body.new_arrival, reason=body.reason,
                       customer_notified_at=body.customer_notified_at,
                       regional_centre_notified_at=body.regional_centre_notified_at, actor=actor)


async def request_informed(*, session: AsyncSession, case_id: UUID, body: ArrivalReschedule, actor: str,
                           if_match: str | None, now: datetime,
                           settings: DispatchSettings) -> ArrivalRescheduleRequestRead:
    """S7 with `inform`: check the gate but for the notifications, record the request and queue the
    system's messages to the customer and the regional centre (GateRefused when either cannot be
    reached: no customer e-mail or phone, opted out, no regional centre recipient for the region)."""
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    await _check(session, case, body.new_arrival, None, None, informing=True)
    request = ArrivalRescheduleRequest(id=uuid4(), case_id=case.id, new_arrival=body.new_arrival, reason=body.reason,
                                       requested_by=actor, requested_at=now)
    session.add(request)
    rule = rule_for("ArrivalRescheduled")
    assert rule is not None
    # the message is the one ArrivalRescheduled would send; its "event" is this request
    previous = case.planned_start or case.required_arrival
    envelope = EventEnvelope(
        id=request.id, type="ArrivalRescheduled", source="/fieldservice/dispatch", time=now, subject=str(case.id),
        correlationid=str(request.id), actor=actor,
        data={"case_id": str(case.id), "previous_arrival": previous.isoformat() if previous else None,
              "new_arrival": body.new_arrival.isoformat(), "reason": body.reason})
    rows = await notifications.queue(session=session, envelope=envelope, rule=rule, now=now, settings=settings,
                                     gate_id=request.id)
    missing = []
    for audience, who in ((Audience.CUSTOMER, "the customer (no e-mail or phone on the case, or opted out)"),
                          (Audience.REGIONAL_CENTRE, f"the regional centre of {case.region} (no recipient in the "
                                                     "notification directory)")):
        if not any(r["audience"] == audience and r["status"] == NotificationStatus.QUEUED for r in rows):
            missing.append(msg("S7: the system cannot inform {who}: inform them yourself and give the notified-at "
                "time",
                who=who))
    if missing:
        raise GateRefused(msg("arrival reschedule"), missing)
    return _read(request, [r["id"] for r in rows])


def _read(request: ArrivalRescheduleRequest, ids: list[UUID]) -> ArrivalRescheduleRequestRead:
    return ArrivalRescheduleRequestRead.model_validate({**request.model_dump(), "notification_ids": ids})


async def get_request(*, session: AsyncSession, case_id: UUID, request_id: UUID) -> ArrivalRescheduleRequestRead:
    request = await session.get(ArrivalRescheduleRequest, request_id)
    if request is None or request.case_id != case_id:
        raise NotFound(msg("arrival reschedule request {request_id} of case {case_id} does not exist",
            request_id=request_id, case_id=case_id))
    ids = list((await session.execute(select(col(Notification.id)).where(col(Notification.gate_id) == request_id)
                                      .order_by(col(Notification.created_at)))).scalars())
    return _read(request, ids)


async def settle_informed(*, session: AsyncSession, request_id: UUID, now: datetime) -> RescheduleStatus | None:
    """After one of its messages was sent or failed: when both sides were told, move the arrival with the
    messages' sent times (the customer's, and the regional centre's first) as the notified-at times; when
    a message failed, or the moved window no longer passes S3, refuse the request. None: still waiting."""
    request = await session.get(ArrivalRescheduleRequest, request_id, with_for_update=True)
    if request is None or request.status != RescheduleStatus.INFORMING:
        return None
    messages = list((await session.execute(select(Notification).where(col(Notification.gate_id) == request_id)))
                    .scalars())
    failed = [m for m in messages if m.status in (NotificationStatus.FAILED, NotificationStatus.SUPPRESSED)]
    customer = [m.sent_at for m in messages if m.audience == Audience.CUSTOMER and m.sent_at is not None]
    centre = [m.sent_at for m in messages if m.audience == Audience.REGIONAL_CENTRE and m.sent_at is not None]
    if failed:
        return _refuse(request, now, f"the message to {failed[0].address} was not sent: {failed[0].last_error}")
    if not customer or not centre:
        return None
    request.customer_notified_at, request.regional_centre_notified_at = customer[0], min(centre)
    case = await cases.get(session=session, case_id=request.case_id, for_update=True)
    try:
        await _move(session, case, new_arrival=request.new_arrival, reason=request.reason,
                    customer_notified_at=customer[0], regional_centre_notified_at=min(centre),
                    actor=request.requested_by, informed_by_system=True)
    except GateRefused as exc:
        return _refuse(request, now, exc.detail)
    request.status, request.settled_at = RescheduleStatus.APPLIED, now
    return RescheduleStatus.APPLIED


def _refuse(request: ArrivalRescheduleRequest, now: datetime, reason: str) -> RescheduleStatus:
    request.status, request.settled_at, request.refused_reason = RescheduleStatus.REFUSED, now, reason[:2000]
    return RescheduleStatus.REFUSED
