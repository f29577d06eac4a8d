"""Events produced by the onsite service (topic `onsite.events`): S8-S24, S26-S31, S33.

Every step the onsite service records emits an event, so that dispatch's conformance view
can prove it (see `shared.standard`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from shared.events.registry import CaseEvent, event

ONSITE = "onsite"

CallParty = Literal["account_manager", "customer_contact", "site_interface"]


class ThreeCallEntry(BaseModel):
    """One of the S8 calls: whom, when, how (phone or in person) and the outcome."""

    party: CallParty
    called_at: AwareDatetime
    in_person: bool = False
    outcome: str = Field(min_length=1, max_length=1000)


class VisitEvent(CaseEvent):
    """Base of onsite events: every one names its case and visit."""

    visit_id: UUID


@event("EngineerArrived", producer=ONSITE)
class EngineerArrived(VisitEvent):
    """S8: an engineer arrived on site, with the three calls in the order they were made."""

    engineer_id: str
    arrived_at: datetime
    calls: list[ThreeCallEntry]
    compliance_findings: list[str] = Field(default_factory=list)


@event("TechnicalBriefingHeld", producer=ONSITE)
class TechnicalBriefingHeld(VisitEvent):
    """S9: the customer was briefed before work; disputed points stay open, not blocking."""

    briefing_id: UUID
    held_at: datetime
    held_by: str
    open_disputes: int = 0
    customer_attendees: list[str] = Field(default_factory=list, description="S9: who of the customer was briefed")


@event("BriefingDisputeEscalated", producer=ONSITE)
class BriefingDisputeEscalated(VisitEvent):
    """S9: a disputed point of the briefing escalated to unit leadership or the regional centre."""

    dispute_id: UUID
    escalated_to: Literal["unit_leadership", "regional_centre"]


class EngineerDayEvent(VisitEvent):
    """Base of the events of one engineer's working day on the visit (S10, S20)."""

    engineer_id: str
    day: date


class PresenceEvent(EngineerDayEvent):
    """S10: where an engineer signed in or out, and when."""

    at: datetime
    latitude: float
    longitude: float
    accuracy_m: float | None = None


@event("EngineerCheckedIn", producer=ONSITE)
class EngineerCheckedIn(PresenceEvent):
    """S10: daily sign-in with location."""


@event("EngineerCheckedOut", producer=ONSITE)
class EngineerCheckedOut(PresenceEvent):
    """S10: daily sign-out with location."""


@event("SignOutMissed", producer=ONSITE)
class SignOutMissed(EngineerDayEvent):
    """S10: a working day without a sign-out, flagged the next morning."""


@event("SignInMissed", producer=ONSITE)
class SignInMissed(EngineerDayEvent):
    """S10: a working day (the site's calendar day) of an open visit without the engineer's sign-in,
    flagged the next morning, once per engineer and day."""


@event("PermitRecorded", producer=ONSITE)
class PermitRecorded(VisitEvent):
    """S11: a customer site work permit with its scope and validity."""

    permit_id: UUID
    number: str
    scope: list[str] = Field(default_factory=list)
    valid_from: datetime
    valid_to: datetime


@event("WorkPlanUpdated", producer=ONSITE)
class WorkPlanUpdated(VisitEvent):
    """S12: the site work plan (tasks and planned dates) changed or progressed."""

    tasks: int
    tasks_done: int
    planned_completion: datetime | None = None


@event("ScheduleAtRisk", producer=ONSITE)
class ScheduleAtRisk(VisitEvent):
    """S12: planned completion passes the customer's deadline; more staff requested."""

    risk_id: UUID
    planned_completion: datetime
    customer_deadline: datetime
    reason: str
    engineers_requested: int = 1


@event("TaskStarted", producer=ONSITE)
class TaskStarted(VisitEvent):
    """S13: a task started after the briefing (S9), a valid permit (S11) and safety (S14) gates."""

    task_id: UUID
    title: str
    started_by: str


@event("ProcessDataRecorded", producer=ONSITE)
class ProcessDataRecorded(VisitEvent):
    """S13: a check-sheet value recorded; outside the acceptance limits it is failed.

    Every reading is one event (a re-measurement never replaces a failed one); quality registers an
    S25 issue for a failed value, with the item's text, limits and the equipment type carried here.
    """

    task_id: UUID
    item_id: str
    value: float | str | bool
    unit: str | None = None
    passed: bool
    recorded_by: str
    reading_id: UUID | None = None
    task_title: str | None = None
    item_text: str | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    equipment_type: str | None = None


@event("MilestoneReached", producer=ONSITE)
class MilestoneReached(VisitEvent):
    """S13: a milestone signed off (with its witness when one is required)."""

    milestone_id: UUID
    title: str
    reached_at: datetime
    witnessed_by: str | None = None


@event("SafetyCheckCompleted", producer=ONSITE)
class SafetyCheckCompleted(VisitEvent):
    """S14: a task's safety checklist of the day is complete."""

    task_id: UUID
    day: date
    live_hv: bool = False
    primary_test: bool = False
    checked_by: str


@event("CommunicationLogged", producer=ONSITE)
class CommunicationLogged(VisitEvent):
    """S15: a request to the customer, a difficulty or an agreed solution."""

    entry_id: UUID
    kind: Literal["request", "difficulty", "agreed_solution", "other"]
    logged_by: str


@event("CustomerReportSent", producer=ONSITE)
class CustomerReportSent(VisitEvent):
    """S16: a periodic report to the customer, with their opinion; disagreement escalated."""

    report_id: UUID
    customer_agrees: bool | None = None
    escalated: bool = False


@event("CustomerReportOverdue", producer=ONSITE)
class CustomerReportOverdue(VisitEvent):
    """S16 finding: no report to the customer within the plan's reporting period (raised once per period)."""

    period_days: int
    due_at: datetime = Field(description="When the report was due: the last report (or arrival) plus the period")
    last_report_at: datetime | None = None


@event("WitnessRecorded", producer=ONSITE)
class WitnessRecorded(VisitEvent):
    """S17: the customer's witness signed a record (work, test, measurement, milestone)."""

    witness_id: UUID
    subject_kind: str
    subject_id: str
    witness_name: str
    witness_role: str


@event("ProcessRecordAdded", producer=ONSITE)
class ProcessRecordAdded(VisitEvent):
    """S18: drawing modification, problem handling, meeting minutes or design-change document."""

    record_id: UUID
    kind: Literal["drawing_modification", "problem_handling", "meeting_minutes", "design_change"]


@event("EvidenceAttached", producer=ONSITE)
class EvidenceAttached(VisitEvent):
    """S19: a photo or document stored with its SHA-256."""

    evidence_id: UUID
    sha256: str
    content_type: str
    size: int
    attached_to: str


@event("EvidenceConfirmed", producer=ONSITE)
class EvidenceConfirmed(VisitEvent):
    """S19: important evidence confirmed by the customer."""

    evidence_id: UUID
    confirmed_by: str


@event("DailyLogSubmitted", producer=ONSITE)
class DailyLogSubmitted(EngineerDayEvent):
    """S20: an engineer's daily work log sent to the service department (its texts for the day's digest)."""

    work_done: str | None = None
    progress: str | None = None
    problems: str | None = None


@event("DailyLogMissed", producer=ONSITE)
class DailyLogMissed(EngineerDayEvent):
    """S20: a working day without the engineer's log."""


class LeaveEvent(VisitEvent):
    """Base of the events of an engineer's leave mid-way (S21): which leave, whose."""

    leave_id: UUID
    engineer_id: str


@event("LeaveDecided", producer=ONSITE)
class LeaveDecided(LeaveEvent):
    """S21: leaving mid-way: the site manager's consent, or a refusal and its exception."""

    consent: bool
    exception_approved: bool = False


@event("LeaveExceptionApproved", producer=ONSITE)
class LeaveExceptionApproved(LeaveEvent):
    """S21: after the site manager's refusal, a department head approved the engineer's exception."""

    exception_reason: str
    approved_by: str


@event("LeaveRefusalBreached", producer=ONSITE)
class LeaveRefusalBreached(LeaveEvent):
    """S21 finding: an engineer refused leave (no approved exception) departed or stopped signing in."""

    how: Literal["departed", "no_sign_in"]
    day: date = Field(description="The day of the departure, or the first working day without a sign-in")


class RaisedItem(VisitEvent):
    item_id: UUID
    raised_by: str
    summary: str
    details: str = ""


@event("ReferralRaised", producer=ONSITE)
class ReferralRaised(RaisedItem):
    """S22: the customer asked about another product of the group; registered, never refused."""

    product: str


@event("CustomerRequestEscalated", producer=ONSITE)
class CustomerRequestEscalated(RaisedItem):
    """S23: an abnormal request, or a question on drawings, delivery, bought-in equipment or parts."""

    topic: Literal["abnormal_request", "drawing_change", "delivery_time", "bought_in_equipment", "spare_parts"]


@event("InternalDisagreementRaised", producer=ONSITE)
class InternalDisagreementRaised(RaisedItem):
    """S24: a disagreement between units of the group, to mediate or escalate."""

    units: list[str] = Field(default_factory=list)


@event("SelfCheckCompleted", producer=ONSITE)
class SelfCheckCompleted(VisitEvent):
    """S26: an engineer checked their own items against the check sheets."""

    engineer_id: str
    items: int


@event("CrossCheckCompleted", producer=ONSITE)
class CrossCheckCompleted(VisitEvent):
    """S26: another engineer of the team cross-checked an engineer's items."""

    checked_engineer_id: str
    checker_id: str
    items: int


@event("CleanupConfirmed", producer=ONSITE)
class CleanupConfirmed(VisitEvent):
    """S27: work site and equipment cleaned up, confirmed."""

    confirmed_by: str


@event("HandoverCompleted", producer=ONSITE)
class HandoverCompleted(VisitEvent):
    """S28: accessories and spare parts handed over, with the receiver's signature."""

    handover_id: UUID
    items: int
    received_by: str


@event("RepairRequested", producer=ONSITE)
class RepairRequested(VisitEvent):
    """S28: damaged equipment taken back for repair; a receipt stays with the customer."""

    repair_request_id: UUID
    receipt_number: str
    equipment: str
    serial_number: str | None = None
    fault: str
    customer_name: str


@event("DrawingRevisionRecorded", producer=ONSITE)
class DrawingRevisionRecorded(VisitEvent):
    """S29: a drawing deviation recorded, the original kept."""

    revision_id: UUID
    drawing_number: str


@event("NoDrawingDeviationsDeclared", producer=ONSITE)
class NoDrawingDeviationsDeclared(VisitEvent):
    """S29: nothing deviated from the drawings on this visit, so there is nothing to send (declared once)."""

    declared_by: str


@event("DrawingsDispatched", producer=ONSITE)
class DrawingsDispatched(VisitEvent):
    """S29: revised drawings sent to the company's departments and mailed to the customer."""

    revision_ids: list[UUID]
    sent_to_company_at: datetime
    mailed_to_customer_at: datetime
    tracking_number: str | None = None


class AspectRating(BaseModel):
    aspect: str
    score: int = Field(ge=1, le=5)


@event("ServiceCompleted", producer=ONSITE)
class ServiceCompleted(VisitEvent):
    """S30: the result report is accepted and the service receipt signed."""

    completed_at: datetime
    customer_name: str
    region: str
    equipment_type: str
    engineer_ids: list[str]
    receipt_rating: int | None = Field(default=None, ge=1, le=5)
    receipt_comment: str | None = None
    aspect_ratings: list[AspectRating] = Field(default_factory=list)
    unfinished_items: int = 0
    report_sha256: str | None = Field(
        default=None, description="SHA-256 of the signed service report PDF (GET .../report.pdf gives these bytes)")


@event("TrainingDelivered", producer=ONSITE)
class TrainingDelivered(VisitEvent):
    """S31: customer training with approved materials, evaluation forms and test scores."""

    training_id: UUID
    topics: list[Literal["use", "maintenance", "repair", "emergency"]]
    attendees: int
    materials: list[str] = Field(default_factory=list)
    evaluation_scores: list[int] = Field(default_factory=list, description="1-5 per evaluation form")
    test_scores: list[float] = Field(default_factory=list, description="0-100 per test paper")
    evaluation_declined: bool = Field(default=False,
                                      description="S31: the customer was asked for the evaluation form and declined")
    customer_name: str = ""
    region: str = ""
    equipment_type: str = ""


@event("CustomerInformationCaptured", producer=ONSITE)
class CustomerInformationCaptured(VisitEvent):
    """S32: an opinion, suggestion or business lead heard on site, for feedback to route."""

    info_id: UUID
    kind: Literal["opinion", "suggestion", "business_lead"]
    text: str
    customer_name: str
    region: str


@event("EngineerDeparted", producer=ONSITE)
class EngineerDeparted(VisitEvent):
    """S33: an engineer left with the regional centre and department head informed and consent."""

    engineer_id: str
    departed_at: datetime
    visit_closed: bool = False
