"""The service standard (S1-S34) as data: who owns each step and which events prove it.

Dispatch's conformance view reads this table: a step is *done* when one of its `done_by`
events exists for the case, *in progress* when only a `started_by` event does, *not
applicable* when it is conditional and none of its `applies_when` events happened (nor any of
its own events), and *missing* otherwise. `findings_by` events are compliance findings shown
on the step even when it is done (a missed sign-out, calls out of order). `reopened_by` events put
an item of a per-item step back in progress (a reopened quality issue).

Some steps need more than "one of these events exists": per item (S22-S25, S32), per engineer
(S26), per day (S10, S20), per period (S16), per milestone and check-sheet item (S13, S17, S19) and
per call outcome (S34). Those judgements are pure rules in `services/dispatch/record/domain.py`;
this table names the events each step reads (decision 0076).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Phase = Literal["preparation", "on_site", "closing"]


@dataclass(frozen=True)
class Step:
    id: str
    phase: Phase
    owner: str
    title: str
    done_by: tuple[str, ...]
    started_by: tuple[str, ...] = ()
    conditional: bool = False
    applies_when: tuple[str, ...] = ()
    findings_by: tuple[str, ...] = ()
    reopened_by: tuple[str, ...] = ()

    @property
    def events(self) -> tuple[str, ...]:
        return (*self.done_by, *self.started_by, *self.findings_by, *self.reopened_by)


STEPS: tuple[Step, ...] = (
    Step("S1", "preparation", "dispatch", "Receive the request", ("ServiceRequestAcknowledged",),
         ("ServiceRequestReceived",)),
    Step("S2", "preparation", "dispatch", "Confirm service conditions", ("ServiceConditionsConfirmed",),
         ("ServicePostponed", "PostponementDue")),
    Step("S3", "preparation", "dispatch", "Assign staff", ("EngineersAssigned",)),
    Step("S4", "preparation", "dispatch", "Service plan", ("ServicePlanApproved",)),
    Step("S5", "preparation", "dispatch", "Service specifications", ("SpecificationPackAttached",)),
    Step("S6", "preparation", "dispatch", "Preparation", ("ServiceDispatched",), ("PreparationCompleted",)),
    Step("S7", "preparation", "dispatch", "Delays", ("ArrivalRescheduled",), conditional=True),
    Step("S8", "on_site", "onsite", "Three calls", ("EngineerArrived",), findings_by=("EngineerArrived",)),
    Step("S9", "on_site", "onsite", "Technical briefing", ("TechnicalBriefingHeld",),
         findings_by=("BriefingDisputeEscalated",)),
    Step("S10", "on_site", "onsite", "Daily sign-in/sign-out", ("EngineerCheckedOut",), ("EngineerCheckedIn",),
         findings_by=("SignInMissed", "SignOutMissed")),
    Step("S11", "on_site", "onsite", "Customer rules (work permit)", ("PermitRecorded",)),
    Step("S12", "on_site", "onsite", "Work plan", ("WorkPlanUpdated",), findings_by=("ScheduleAtRisk",)),
    Step("S13", "on_site", "onsite", "Work by the ticket", ("MilestoneReached",),
         ("TaskStarted", "ProcessDataRecorded")),
    Step("S14", "on_site", "onsite", "Safety", ("SafetyCheckCompleted",)),
    Step("S15", "on_site", "onsite", "Communication", ("CommunicationLogged",), conditional=True),
    Step("S16", "on_site", "onsite", "Periodic reports", ("CustomerReportSent",),
         findings_by=("CustomerReportOverdue",)),
    Step("S17", "on_site", "onsite", "Customer witness", ("WitnessRecorded",), conditional=True,
         applies_when=("WitnessRecorded",)),
    Step("S18", "on_site", "onsite", "Process records", ("ProcessRecordAdded",), conditional=True),
    Step("S19", "on_site", "onsite", "Evidence", ("EvidenceAttached",)),
    Step("S20", "on_site", "onsite", "Daily work log", ("DailyLogSubmitted",), findings_by=("DailyLogMissed",)),
    Step("S21", "on_site", "onsite", "Leaving mid-way", ("LeaveDecided",), conditional=True,
         findings_by=("LeaveRefusalBreached",)),
    Step("S22", "on_site", "onsite", "First-contact responsibility", ("RoutedItemAnswered",),
         ("ReferralRaised", "RoutedItemAssigned"), conditional=True, applies_when=("ReferralRaised",)),
    Step("S23", "on_site", "onsite", "Abnormal requests", ("RoutedItemAnswered",),
         ("CustomerRequestEscalated", "RoutedItemAssigned"), conditional=True,
         applies_when=("CustomerRequestEscalated",)),
    Step("S24", "on_site", "onsite", "Internal disagreements", ("RoutedItemAnswered",),
         ("InternalDisagreementRaised", "RoutedItemAssigned", "InternalDisagreementEscalated"), conditional=True,
         applies_when=("InternalDisagreementRaised",)),
    Step("S25", "on_site", "quality", "Product quality problems", ("IssueResolvedOnSite", "IssueClosed"),
         ("IssueLogged", "IssueEscalated"), conditional=True, applies_when=("IssueLogged",),
         reopened_by=("IssueReopened",)),
    Step("S26", "on_site", "onsite", "Self-check and cross-check", ("SelfCheckCompleted", "CrossCheckCompleted")),
    Step("S27", "closing", "onsite", "Clean-up", ("CleanupConfirmed",)),
    Step("S28", "closing", "onsite", "Hand-over", ("HandoverCompleted",), ("RepairRequested",)),
    Step("S29", "closing", "onsite", "Technical documents", ("DrawingsDispatched", "NoDrawingDeviationsDeclared"),
         ("DrawingRevisionRecorded",), conditional=True, applies_when=("DrawingRevisionRecorded",)),
    Step("S30", "closing", "onsite", "Result report and sign-off", ("ServiceCompleted",)),
    Step("S31", "closing", "onsite", "Customer training", ("TrainingDelivered",), conditional=True),
    Step("S32", "closing", "feedback", "Customer information", ("CustomerInformationAnswered",),
         ("CustomerInformationCaptured", "CustomerInformationRouted"), conditional=True,
         applies_when=("CustomerInformationCaptured",)),
    Step("S33", "closing", "onsite", "Leaving the site", ("EngineerDeparted",)),
    Step("S34", "closing", "feedback", "Follow-up call", ("FollowUpCallCompleted",),
         ("FollowUpCallScheduled", "FollowUpCallAttempted")),
)

BY_ID = {s.id: s for s in STEPS}
