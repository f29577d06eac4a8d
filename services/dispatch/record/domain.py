"""Pure rules of the conformance view: the standard (shared.standard) applied to a case's timeline.

A step is *done* when one of its `done_by` events exists and every duty its own rule judges is
fulfilled, *in progress* when it has begun (a `started_by` event, or a proving event while a duty is
still open or was missed), *not applicable* when it is conditional and nothing that makes it apply
happened, and *missing* otherwise (decision 0076).

Duties judged beyond "one event exists":
- per item: S22-S24 per routed item, S25 per quality issue (a reopened issue is open again), S32 per
  piece of customer information;
- per engineer: S26 (every engineer self-checked; with several, each cross-checked by another),
  S33 (every engineer left: the visit closed);
- per day on site: S10 (sign-in and sign-out), S20 (daily log), from each engineer's arrival to their
  departure, in the site's time zone; per period: S16 (a report to the customer in every period);
- per milestone and check-sheet item: S13 (every dispatched item recorded, every task done),
  S17 (every witness-required item and milestone witnessed), S19 (evidence for every milestone and
  every photo item);
- per call: S34 (a call closed unreachable is a finding, not the step done).
Each gap is a finding. Nothing here does I/O; the router passes the site's today.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from services.dispatch.record.models import Finding, StepConformance
from shared.messages import msg
from shared.standard import BY_ID, STEPS, Step

# Days on site are the site's days. One zone for every site until sites carry their own (decision 0076).
SITE_TIMEZONE: tzinfo = ZoneInfo("Asia/Shanghai")
# S16: onsite's CustomerReportOverdue or the plan may name the reporting period; otherwise a report a week.
DEFAULT_REPORT_PERIOD_DAYS = 7

# Routed-item steps share event types; the item's kind says which step an event belongs to.
ROUTED_KIND = {"S22": "referral", "S23": "abnormal_request", "S24": "internal_disagreement"}
# Steps whose proof is per item: every raised item needs its closing event.
ITEM_KEY = {"S22": "item_id", "S23": "item_id", "S24": "item_id", "S25": "issue_id", "S32": "info_id"}
# Outcomes of a follow-up call that fulfil S34 (the customer was reached; declining to rate is their right).
CALL_FULFILLED = ("reached", "declined")


@dataclass(frozen=True)
class TimelineEvent:
    event_id: UUID
    event_type: str
    actor: str
    occurred_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class Context:
    """What every rule may read besides the step's own events: the whole timeline, the site's day."""

    timeline: Sequence[TimelineEvent]
    today: date | None = None
    tz: tzinfo = SITE_TIMEZONE

    def of(self, *types: str) -> list[TimelineEvent]:
        return [e for e in self.timeline if e.event_type in types]

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    @property
    def service_completed(self) -> bool:
        return bool(self.of("ServiceCompleted"))


@dataclass(frozen=True)
class Judgement:
    """A step's own rule: whether every duty it judges is fulfilled, a finding per gap, and whether
    something beyond the step's own events makes a conditional step apply."""

    fulfilled: bool = True
    gaps: list[Finding] = field(default_factory=list)
    applies: bool = False


# ---------------------------------------------------------------- reading event data

def event_moment(value: Any) -> datetime | None:
    """A moment from event data; a time without a zone is taken as UTC (events carry aware times)."""
    moment = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def event_day(value: Any) -> date | None:
    """A calendar day from event data (a date, a moment's date or ISO text)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _gap(detail: str, day: date | None = None) -> Finding:
    return Finding(detail=detail, day=day)


def _reported(e: TimelineEvent, detail: str) -> Finding:
    return Finding(event_id=e.event_id, event_type=e.event_type, at=e.occurred_at, detail=detail)


def _dispatched(ctx: Context) -> dict[str, Any]:
    """The newest ServiceDispatched: the team, plan and check sheets the visit works with."""
    sent = ctx.of("ServiceDispatched")
    return sent[-1].data if sent else {}


def _sheet_items(ctx: Context) -> list[dict[str, Any]]:
    return [i for sheet in _dispatched(ctx).get("check_sheets") or [] for i in sheet.get("items") or []]


# ---------------------------------------------------------------- per item (S22-S25, S32)

def _belongs(step: Step, e: TimelineEvent) -> bool:
    kind = ROUTED_KIND.get(step.id)
    if kind and e.event_type in ("RoutedItemAssigned", "RoutedItemAnswered"):
        return e.data.get("kind") == kind
    return True


def unclosed_items(step: Step, events: Sequence[TimelineEvent]) -> set[str]:
    """S22-S25, S32: the items raised and not closed; an item reopened after its closing event is open."""
    key = ITEM_KEY.get(step.id)
    if key is None:
        return set()
    own = [e for e in events if e.event_type in step.events and _belongs(step, e)]
    opened = {str(e.data.get(key)) for e in own if e.event_type in step.started_by}
    last_closed: dict[str, datetime] = {}
    last_reopened: dict[str, datetime] = {}
    for e in own:
        item = str(e.data.get(key))
        if e.event_type in step.done_by:
            last_closed[item] = max(last_closed.get(item, e.occurred_at), e.occurred_at)
        elif e.event_type in step.reopened_by:
            last_reopened[item] = max(last_reopened.get(item, e.occurred_at), e.occurred_at)
    closed = {i for i, at in last_closed.items() if i not in last_reopened or last_reopened[i] < at}
    return (opened | set(last_reopened)) - closed


def _items(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S22-S25, S32: every raised item has its closing event (and was not reopened since)."""
    return Judgement(fulfilled=not unclosed_items(step, own))


# ---------------------------------------------------------------- per day on site (S10, S20) and period (S16)

def days_on_site(ctx: Context) -> dict[str, list[date]]:
    """S10/S20: each engineer's days on site, from the day of arrival to the day of departure (or of
    leaving mid-way with consent, S21), in the site's time zone; while they are still on site, up to
    yesterday (today is not over). Every day is a working day: the standard names no rest days.

    The work on site ends with the signed receipt (S30): onsite accepts no sign-in after it, so a day
    after the service's completion (signing out and leaving after midnight, waiting for transport) is
    not a working day to sign in or log."""
    completed = [ctx.day(event_moment(e.data.get("completed_at")) or e.occurred_at) for e in ctx.of("ServiceCompleted")]
    work_ended = min(completed) if completed else None
    start: dict[str, date] = {}
    for e in ctx.of("EngineerArrived"):
        eng = str(e.data.get("engineer_id"))
        day = ctx.day(event_moment(e.data.get("arrived_at")) or e.occurred_at)
        start[eng] = min(start.get(eng, day), day)
    end: dict[str, date] = {}
    for e in ctx.of("EngineerDeparted"):
        eng = str(e.data.get("engineer_id"))
        end[eng] = ctx.day(event_moment(e.data.get("departed_at")) or e.occurred_at)
    for e in ctx.of("LeaveDecided"):
        eng = str(e.data.get("engineer_id"))
        if (e.data.get("consent") or e.data.get("exception_approved")) and eng not in end:
            end[eng] = ctx.day(e.occurred_at)
    spans: dict[str, list[date]] = {}
    for eng, first in start.items():
        last = end.get(eng)
        if last is None:
            if ctx.today is None:
                continue
            last = ctx.today - timedelta(days=1)
        if work_ended is not None:
            last = min(last, work_ended)
        spans[eng] = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return spans


def _daily_presence(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S10: on every day on site each engineer signed in and signed out (onsite's SignInMissed and
    SignOutMissed already report some days: those are not reported twice)."""
    signed_in = {(str(e.data.get("engineer_id")), event_day(e.data.get("day"))) for e in ctx.of("EngineerCheckedIn")}
    signed_out = {(str(e.data.get("engineer_id")), event_day(e.data.get("day"))) for e in ctx.of("EngineerCheckedOut")}
    out_flagged = {(str(e.data.get("engineer_id")), event_day(e.data.get("day"))) for e in ctx.of("SignOutMissed")}
    in_flagged = {(str(e.data.get("engineer_id")), event_day(e.data.get("day"))) for e in ctx.of("SignInMissed")}
    gaps: list[Finding] = []
    for eng, days in sorted(days_on_site(ctx).items()):
        for day in days:
            if (eng, day) not in signed_in and (eng, day) not in in_flagged:
                gaps.append(_gap(f"S10: {eng} did not sign in on {day}", day))
            if (eng, day) not in signed_out and (eng, day) not in out_flagged:
                gaps.append(_gap(f"S10: {eng} did not sign out on {day}", day))
    flagged = (in_flagged - signed_in) | (out_flagged - signed_out)
    return Judgement(fulfilled=not gaps and not flagged, gaps=gaps)


def _daily_log(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S20: on every day on site each engineer sent a daily work log (DailyLogMissed already reports some)."""
    logged = {(str(e.data.get("engineer_id")), event_day(e.data.get("day"))) for e in ctx.of("DailyLogSubmitted")}
    flagged = {(str(e.data.get("engineer_id")), event_day(e.data.get("day"))) for e in ctx.of("DailyLogMissed")}
    gaps = [_gap(f"S20: {eng} sent no daily work log for {day}", day)
            for eng, days in sorted(days_on_site(ctx).items()) for day in days
            if (eng, day) not in logged and (eng, day) not in flagged]
    missed = [e for e in own if e.event_type == "DailyLogMissed"
              and (str(e.data.get("engineer_id")), event_day(e.data.get("day"))) not in logged]
    return Judgement(fulfilled=not gaps and not missed, gaps=gaps)


def report_period_days(ctx: Context) -> int:
    """S16: the reporting period onsite judged by (on its CustomerReportOverdue), else the one the
    dispatched plan names (`report_period_days`), else the default (a week)."""
    for e in reversed(ctx.of("CustomerReportOverdue")):
        if isinstance(e.data.get("period_days"), int) and e.data["period_days"] > 0:
            return int(e.data["period_days"])
    plan = _dispatched(ctx).get("plan") or {}
    period = plan.get("report_period_days") if isinstance(plan, dict) else None
    return period if isinstance(period, int) and period > 0 else DEFAULT_REPORT_PERIOD_DAYS


def _periodic_reports(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S16: a report to the customer at least once a reporting period while engineers are on site:
    from the first arrival to the first report, between two reports, and from the last report to the
    end of the visit (or yesterday, while it lasts), no more than a period may pass. A period onsite
    already reported overdue (CustomerReportOverdue) is not reported twice."""
    on_site = [day for days in days_on_site(ctx).values() for day in days]
    if not on_site:
        return Judgement(fulfilled=not any(e.event_type == "CustomerReportOverdue" for e in own))
    period = timedelta(days=report_period_days(ctx))
    flagged = [ctx.day(event_moment(e.data.get("due_at")) or e.occurred_at) for e in own
               if e.event_type == "CustomerReportOverdue"]
    reports = sorted(ctx.day(e.occurred_at) for e in own if e.event_type == "CustomerReportSent")
    anchor, gaps = min(on_site), []
    for until in [*reports, max(on_site) + timedelta(days=1)]:
        while anchor + period < until:  # every period that passed without a report is one gap
            due = anchor + period
            if not any(anchor < d <= due for d in flagged):
                gaps.append(_gap(f"S16: no report to the customer from {anchor} to {due} "
                                 f"(every {period.days} days)", due))
            anchor = due
        anchor = max(anchor, until)
    return Judgement(fulfilled=not gaps and not flagged, gaps=gaps)


# ---------------------------------------------------------------- per milestone and check-sheet item (S13, S17, S19)

def _work_by_ticket(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S13: every dispatched check-sheet item recorded, every task of the site plan done, a milestone
    reached. Items and tasks still open are findings once the service is completed; an item whose
    latest value is outside its limits is always one."""
    required = {str(i.get("item_id")) for i in _sheet_items(ctx)}
    latest: dict[str, TimelineEvent] = {}
    for e in own:
        if e.event_type == "ProcessDataRecorded":
            latest[str(e.data.get("item_id"))] = e
    gaps = [_reported(e, f"S13: check-sheet item {item}: the latest value is outside its limits")
            for item, e in sorted(latest.items()) if e.data.get("passed") is False]
    unrecorded = sorted(required - set(latest))
    plans = ctx.of("WorkPlanUpdated")
    tasks_open = 0
    if plans:
        tasks_open = int(plans[-1].data.get("tasks") or 0) - int(plans[-1].data.get("tasks_done") or 0)
    if ctx.service_completed:
        gaps += [_gap(f"S13: check-sheet item {item} was never recorded") for item in unrecorded]
        if tasks_open > 0:
            gaps.append(_reported(plans[-1], f"S13: {tasks_open} task(s) of the site plan not done"))
    return Judgement(fulfilled=not unrecorded and tasks_open <= 0, gaps=gaps)


def _witnesses(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S17: every check-sheet item that needs the customer's witness has one (counted: the events name
    the witnessed record, not the item), and every milestone that needs a witness was reached with one."""
    needing = {str(i.get("item_id")) for i in _sheet_items(ctx)
               if i.get("requires_witness") or i.get("kind") == "witness"}
    witnessed = {str(e.data.get("subject_id")) for e in own
                 if e.event_type == "WitnessRecorded" and e.data.get("subject_kind") == "process_data"}
    gaps = [_reported(e, f"S17: milestone '{e.data.get('title')}' needed a witness and has none")
            for e in ctx.of("MilestoneReached") if e.data.get("requires_witness") and not e.data.get("witnessed_by")]
    short = len(needing) - len(witnessed)
    if short > 0 and ctx.service_completed:
        gaps.append(_gap(f"S17: {short} of {len(needing)} check-sheet item(s) needing a witness have none"))
    applies = bool(needing) or any(e.data.get("requires_witness") for e in ctx.of("MilestoneReached"))
    return Judgement(fulfilled=short <= 0 and not gaps, gaps=gaps, applies=applies)


def _evidence(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S19: a photo or document for every milestone reached, and for every photo item of the check
    sheets (counted, as for S17)."""
    attached = [str(e.data.get("attached_to") or "") for e in own if e.event_type == "EvidenceAttached"]
    gaps = [_reported(e, f"S19: milestone '{e.data.get('title')}' has no photo or document")
            for e in ctx.of("MilestoneReached") if f"milestone:{e.data.get('milestone_id')}" not in attached]
    photo_items = {str(i.get("item_id")) for i in _sheet_items(ctx)
                   if i.get("requires_photo") or i.get("kind") == "photo"}
    photographed = {a for a in attached if a.startswith("process_data:")}
    short = len(photo_items) - len(photographed)
    if short > 0 and ctx.service_completed:
        gaps.append(_gap(f"S19: {short} of {len(photo_items)} photo item(s) of the check sheets have no photo"))
    return Judgement(fulfilled=short <= 0 and not gaps, gaps=gaps)


# ---------------------------------------------------------------- per engineer (S26)

def visit_team(ctx: Context) -> list[str]:
    """S26: the engineers of the visit: the dispatched team and the staff added later (S12); before
    dispatch, the assigned team."""
    dispatched = _dispatched(ctx)
    team = [str(m.get("engineer_id")) for m in dispatched.get("team") or []]
    if not team:
        assigned = ctx.of("EngineersAssigned")
        team = [str(m.get("engineer_id")) for m in (assigned[-1].data.get("team") or [])] if assigned else []
    for e in ctx.of("StaffAdded"):
        team += [str(m.get("engineer_id")) for m in e.data.get("engineers") or []
                 if str(m.get("engineer_id")) not in team]
    return team


def _checks(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S26: every engineer of the team self-checked; with two or more, each one's items cross-checked
    by another engineer of the team (onsite's own S26 rule). A one-engineer team needs no cross-check."""
    team = visit_team(ctx) or sorted({str(e.data.get("engineer_id")) for e in own
                                      if e.event_type == "SelfCheckCompleted"})
    selfchecked = {str(e.data.get("engineer_id")) for e in own if e.event_type == "SelfCheckCompleted"}
    crossed = {(str(e.data.get("checked_engineer_id")), str(e.data.get("checker_id"))) for e in own
               if e.event_type == "CrossCheckCompleted"}
    missing = [f"S26: no self-check by {eng}" for eng in team if eng not in selfchecked]
    if len(team) > 1:
        missing += [msg("S26: {eng}'s items not cross-checked by another engineer of the team", eng=eng) for eng in team
                    if not any(c == eng and by != eng and by in team for c, by in crossed)]
    gaps = [_gap(m) for m in missing] if ctx.service_completed else []
    return Judgement(fulfilled=bool(team) and not missing, gaps=gaps)


# ---------------------------------------------------------------- per engineer (S33)

def _leaving(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S33: every engineer of the team left the site (onsite closes the visit on the last departure;
    engineers who left mid-way with consent or an approved exception, S21, do not depart again)."""
    if any(e.data.get("visit_closed") for e in own if e.event_type == "EngineerDeparted"):
        return Judgement()
    gone = {str(e.data.get("engineer_id")) for e in own if e.event_type == "EngineerDeparted"}
    gone |= {str(e.data.get("engineer_id")) for e in ctx.of("LeaveDecided")
             if e.data.get("consent") or e.data.get("exception_approved")}
    team = visit_team(ctx)
    return Judgement(fulfilled=bool(team) and set(team) <= gone)


# ---------------------------------------------------------------- per call (S34)

def _follow_up(step: Step, own: Sequence[TimelineEvent], ctx: Context) -> Judgement:
    """S34: every follow-up call ended with the customer reached (or declining to rate). A call closed
    unreachable is a finding; it is made good only by a later call for the same reason that reached
    the customer."""
    reason: dict[str, str] = {}
    scheduled_at: dict[str, datetime] = {}
    ended: dict[str, TimelineEvent] = {}
    for e in own:
        call = str(e.data.get("call_id"))
        if e.event_type == "FollowUpCallScheduled":
            reason[call] = str(e.data.get("reason"))
            scheduled_at[call] = e.occurred_at
        elif e.event_type == "FollowUpCallCompleted":
            ended[call] = e
        scheduled_at.setdefault(call, e.occurred_at)
    gaps = [_reported(e, f"S34: follow-up call {call} closed unreachable after {e.data.get('attempts')} attempt(s)")
            for call, e in ended.items() if e.data.get("outcome") not in CALL_FULFILLED]
    newest: dict[str, str] = {}
    for call in sorted(scheduled_at, key=lambda c: scheduled_at[c]):
        newest[reason.get(call, "unknown")] = call
    fulfilled = bool(newest) and all(
        call in ended and ended[call].data.get("outcome") in CALL_FULFILLED for call in newest.values())
    return Judgement(fulfilled=fulfilled, gaps=gaps)


JUDGES: dict[str, Callable[[Step, Sequence[TimelineEvent], Context], Judgement]] = {
    **{step: _items for step in ITEM_KEY},
    "S10": _daily_presence, "S13": _work_by_ticket, "S16": _periodic_reports, "S17": _witnesses,
    "S19": _evidence, "S20": _daily_log, "S26": _checks, "S33": _leaving, "S34": _follow_up,
}
# Per-item and judged steps are done when their last duty is; the others when their first proof came.
_DONE_WHEN_LAST = frozenset(JUDGES)


# ---------------------------------------------------------------- the view

def _findings(step: Step, events: Sequence[TimelineEvent]) -> list[Finding]:
    found: list[Finding] = []
    for e in events:
        if e.event_type not in step.findings_by:
            continue
        notes = e.data.get("compliance_findings")
        if e.event_type in step.done_by:
            # a proving event is a finding only when it reports one (e.g. calls out of order)
            found += [_reported(e, str(n)) for n in notes or []]
        else:
            detail = e.data.get("reason") or e.data.get("day") or e.event_type
            found.append(_reported(e, str(detail)))
    return found


def step_conformance(step: Step, timeline: Sequence[TimelineEvent], *, today: date | None = None,
                     tz: tzinfo = SITE_TIMEZONE) -> StepConformance:
    """One step (S1-S34) of the standard: its status, with when, who and the ids of the events that
    prove it, and a finding for every gap its rule sees."""
    ctx = Context(timeline, today, tz)
    own = [e for e in timeline if e.event_type in step.events and _belongs(step, e)]
    done = [e for e in own if e.event_type in step.done_by]
    started = [e for e in own if e.event_type in (*step.started_by, *step.reopened_by)]
    judge = JUDGES.get(step.id)
    judgement = judge(step, own, ctx) if judge else Judgement()
    applies = any(e.event_type in step.applies_when for e in timeline) or bool(own) or judgement.applies
    if done and judgement.fulfilled:
        at = [e.occurred_at for e in done]
        status, proof, when = "done", done, max(at) if step.id in _DONE_WHEN_LAST else min(at)
    elif done or started:
        status, proof, when = "in_progress", [*started, *done], max(e.occurred_at for e in [*started, *done])
    elif step.conditional and not applies:
        status, proof, when = "not_applicable", [], None
    else:
        status, proof, when = "missing", [], None
    return StepConformance(
        step=step.id, title=step.title, phase=step.phase, owner=step.owner, status=status, when=when,
        who=sorted({e.actor for e in proof}), evidence=[e.event_id for e in proof],
        findings=[*_findings(step, own), *judgement.gaps],
    )


def conformance(timeline: Sequence[TimelineEvent], *, today: date | None = None,
                tz: tzinfo = SITE_TIMEZONE) -> list[StepConformance]:
    """S1-S34 for one case; `today` is the site's day (days on site end yesterday while engineers stay)."""
    ordered = sorted(timeline, key=lambda e: e.occurred_at)
    return [step_conformance(step, ordered, today=today, tz=tz) for step in STEPS]


def summary(steps: Sequence[StepConformance]) -> dict[str, int]:
    counts = {"done": 0, "in_progress": 0, "missing": 0, "not_applicable": 0}
    for s in steps:
        counts[s.status] += 1
    counts["findings"] = sum(len(s.findings) for s in steps)
    return counts


# ---------------------------------------------------------------- closing the case (decision 0075)

# The events the closing rule reads: only these can close or reopen a completed case.
CLOSURE_EVENTS = frozenset({
    "ServiceCompleted", "EngineerDeparted",
    "FollowUpCallScheduled", "FollowUpCallCompleted", "ComplaintRaised",
    "IssueLogged", "IssueResolvedOnSite", "IssueClosed", "IssueReopened",
    "ReferralRaised", "CustomerRequestEscalated", "InternalDisagreementRaised",
    "RoutedItemAssigned", "RoutedItemAnswered",
    "CustomerInformationCaptured", "CustomerInformationRouted", "CustomerInformationAnswered",
    "RepairOrderOpened", "RepairStatusChanged",
})


def closure_missing(timeline: Iterable[TimelineEvent]) -> list[str]:
    """S30, S33, S34, S22-S25, S28, S32: what keeps a completed case from being closed (none: close it).

    The service completed (S30); every engineer left and the visit closed (S33); at least one follow-up
    call, every call ended, whatever its outcome, every closed customer-visible issue's fix-confirmation
    call scheduled and every complaint in the quality loop (S34); no quality issue open (S25); every
    routed item (S22-S24) and every piece of customer information (S32) answered; every repair order
    shipped back (S28)."""
    events = sorted((e for e in timeline if e.event_type in CLOSURE_EVENTS), key=lambda e: e.occurred_at)
    ctx = Context(events)
    missing: list[str] = []
    if not ctx.service_completed:
        missing.append(msg("S30: the service is not completed"))
    if not any(e.data.get("visit_closed") for e in ctx.of("EngineerDeparted")):
        missing.append(msg("S33: not every engineer has left the site"))
    calls = {str(e.data.get("call_id")) for e in ctx.of("FollowUpCallScheduled")}
    ended = {str(e.data.get("call_id")) for e in ctx.of("FollowUpCallCompleted")}
    if not calls:
        missing.append(msg("S34: no follow-up call is scheduled"))
    missing += [msg("S34: follow-up call {c} has not ended", c=c) for c in sorted(calls - ended)]
    missing += _fix_confirmations_missing(ctx)
    complaints = {str(e.data.get("complaint_id")) for e in ctx.of("ComplaintRaised")}
    from_complaints = {str(e.data.get("issue_id")) for e in ctx.of("IssueLogged")
                       if e.data.get("source") == "complaint"}
    if len(complaints) > len(from_complaints):
        missing.append(msg("S34: {count} complaint(s) not yet logged as quality issues",
            count=len(complaints) - len(from_complaints)))
    for step_id, what in (("S25", "quality issue"), ("S22", "referral"), ("S23", "abnormal request"),
                          ("S24", "internal disagreement"), ("S32", "customer information")):
        missing += [msg("{step_id}: {what} {item} is open",
            step_id=step_id, what=what, item=item) for item in sorted(unclosed_items(BY_ID[step_id], events))]
    repairs = {str(e.data.get("repair_order_id")) for e in ctx.of("RepairOrderOpened")}
    shipped = {str(e.data.get("repair_order_id")) for e in ctx.of("RepairStatusChanged")
               if e.data.get("status") == "shipped_back"}
    missing += [msg("S28: repair order {r} is not shipped back to the customer",
        r=r) for r in sorted(repairs - shipped)]
    return missing


def _fix_confirmations_missing(ctx: Context) -> list[str]:
    """S34/S25: feedback schedules a fix-confirmation call for each customer-visible issue closed; until it
    is on the timeline (scheduled after the closing, or naming the issue) the case waits for it."""
    closing: dict[str, TimelineEvent] = {}
    for e in ctx.of("IssueResolvedOnSite", "IssueClosed", "IssueReopened"):
        closing[str(e.data.get("issue_id"))] = e
    fix_calls = [e for e in ctx.of("FollowUpCallScheduled") if e.data.get("reason") == "issue_closed"]
    missing = []
    for issue, e in sorted(closing.items()):
        if e.event_type != "IssueClosed" or e.data.get("customer_visible") is False:
            continue
        # a call naming its issue answers for that issue only; one that does not, for any closed before it
        if not any(str(c.data["issue_id"]) == issue if c.data.get("issue_id") else c.occurred_at >= e.occurred_at
                   for c in fix_calls):
            missing.append(msg("S34: the fix-confirmation call for issue {issue} is not scheduled yet", issue=issue))
    return missing
