"""Pure rules of the service KPIs (issue 15, docs/kpis.md): the standard's measures of one case, read
from its timeline, as counts.

Every function returns a numerator and the denominator behind it, never a rate: the read model keeps
the counts of each case (and of each engineer on it), a group's KPI is the sum of its cases' numerators
over the sum of their denominators, divided once (`kpi_values`). Conformance is the record's own rule
(`services.dispatch.record.domain.conformance`), reused, not copied. Nothing here does I/O; the caller
passes the site's today (days on site end yesterday while engineers stay, decision 0076).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal

from services.dispatch.record.domain import (
    SITE_TIMEZONE,
    Context,
    TimelineEvent,
    conformance,
    days_on_site,
    event_day,
    event_moment,
    summary,
    unclosed_items,
    visit_team,
)
from services.dispatch.record.models import StepConformance
from shared.standard import BY_ID

# An arrival is on time when it is no later than the agreed time (no grace: the standard names none).
ON_TIME_GRACE = timedelta(0)
# CSAT: a 1-5 answer of 4 or 5 is satisfied; NPS: 9-10 promoters, 0-6 detractors (as feedback's measures).
CSAT_SATISFIED = 4
NPS_PROMOTER, NPS_DETRACTOR = 9, 6


@dataclass(frozen=True)
class Ratio:
    numerator: float
    denominator: int


def _ordered(timeline: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    return sorted(timeline, key=lambda e: (e.occurred_at, str(e.event_id)))


def _of(timeline: Sequence[TimelineEvent], *types: str) -> list[TimelineEvent]:
    return [e for e in timeline if e.event_type in types]


# ---------------------------------------------------------------- S8 arrivals: on time (S2/S7), three calls

def agreed_arrival(timeline: Sequence[TimelineEvent], before: datetime) -> datetime | None:
    """S2/S7: the arrival time agreed with the customer when the engineer arrived: the newest agreement
    recorded before `before`, a rescheduled arrival (S7 `ArrivalRescheduled.new_arrival`) or the
    confirmed conditions' arrival (S2 `ServiceConditionsConfirmed.required_arrival`), whichever came last."""
    agreed: datetime | None = None
    for e in _ordered(timeline):
        if e.occurred_at > before:
            break
        if e.event_type == "ServiceConditionsConfirmed":
            agreed = event_moment(e.data.get("required_arrival")) or agreed
        elif e.event_type == "ArrivalRescheduled":
            agreed = event_moment(e.data.get("new_arrival")) or agreed
    return agreed


def first_arrivals(timeline: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    """S8: each engineer's first `EngineerArrived` of each visit (a repeated arrival event is not a new arrival)."""
    first: dict[tuple[str, str], TimelineEvent] = {}
    for e in _ordered(_of(timeline, "EngineerArrived")):
        first.setdefault((str(e.data.get("visit_id")), str(e.data.get("engineer_id"))), e)
    return list(first.values())


def _added_later(timeline: Sequence[TimelineEvent]) -> set[str]:
    """S12: engineers added after ScheduleAtRisk (not in the team the S2/S7 time was agreed for)."""
    dispatched = {str(m.get("engineer_id")) for e in _of(timeline, "ServiceDispatched")
                  for m in e.data.get("team") or []}
    return {str(m.get("engineer_id")) for e in _of(timeline, "StaffAdded") for m in e.data.get("engineers") or []
            if str(m.get("engineer_id")) not in dispatched}


def on_time_arrival(timeline: Sequence[TimelineEvent]) -> dict[str, Ratio]:
    """S8 against S2/S7, per engineer: first arrivals of each visit no later than the agreed arrival time
    (the newest S7 reschedule or S2 confirmation recorded before the arrival) over the first arrivals that
    had an agreed time. Excluded: arrivals without any agreed time, and engineers added by S12 (the time
    was not agreed for them)."""
    later = _added_later(timeline)
    out: dict[str, Ratio] = {}
    for e in first_arrivals(timeline):
        eng = str(e.data.get("engineer_id"))
        agreed = agreed_arrival(timeline, e.occurred_at)
        prev = out.get(eng, Ratio(0, 0))
        if agreed is None or eng in later:
            out[eng] = prev
            continue
        arrived = event_moment(e.data.get("arrived_at")) or e.occurred_at
        out[eng] = Ratio(prev.numerator + int(arrived <= agreed + ON_TIME_GRACE), prev.denominator + 1)
    return out


def three_call_compliance(timeline: Sequence[TimelineEvent]) -> dict[str, Ratio]:
    """S8, per engineer: first arrivals of each visit whose `EngineerArrived` carries no compliance finding
    (onsite judged the three calls complete and in order) over all first arrivals."""
    out: dict[str, Ratio] = {}
    for e in first_arrivals(timeline):
        eng = str(e.data.get("engineer_id"))
        prev = out.get(eng, Ratio(0, 0))
        out[eng] = Ratio(prev.numerator + int(not e.data.get("compliance_findings")), prev.denominator + 1)
    return out


# ---------------------------------------------------------------- S10 / S20 per engineer-day on site

@dataclass(frozen=True)
class PresenceDays:
    """S10/S20 of one engineer: days on site, and of those the days with a sign-in, a sign-out, a log."""

    engineer_days: int = 0
    signed_in: int = 0
    signed_out: int = 0
    logged: int = 0


def presence_compliance(timeline: Sequence[TimelineEvent], *, today: date | None,
                        tz: tzinfo = SITE_TIMEZONE) -> dict[str, PresenceDays]:
    """S10 (sign-in, sign-out) and S20 (daily log), per engineer: the engineer-days on site are the record's
    days on site (arrival to departure, up to the receipt, up to yesterday while on site: decision 0076)
    plus any day onsite flagged (`SignInMissed`, `SignOutMissed`, `DailyLogMissed`); a day is compliant
    when its `EngineerCheckedIn` / `EngineerCheckedOut` / `DailyLogSubmitted` for that engineer and day
    exists (a flagged day made good later counts, as in the conformance view)."""
    ctx = Context(_ordered(timeline), today, tz)

    def keyed(*types: str) -> set[tuple[str, date | None]]:
        return {(str(e.data.get("engineer_id")), event_day(e.data.get("day"))) for e in ctx.of(*types)}

    days = {(eng, d) for eng, span in days_on_site(ctx).items() for d in span}
    days |= {(eng, d) for eng, d in keyed("SignInMissed", "SignOutMissed", "DailyLogMissed") if d is not None}
    signed_in, signed_out = keyed("EngineerCheckedIn"), keyed("EngineerCheckedOut")
    logged = keyed("DailyLogSubmitted")
    out: dict[str, PresenceDays] = {}
    for eng in sorted({eng for eng, _ in days}):
        mine = {k for k in days if k[0] == eng}
        out[eng] = PresenceDays(engineer_days=len(mine), signed_in=len(mine & signed_in),
                                signed_out=len(mine & signed_out), logged=len(mine & logged))
    return out


# ---------------------------------------------------------------- S30 first-visit completion, days on site

def _completed(timeline: Sequence[TimelineEvent]) -> bool:
    return bool(_of(timeline, "ServiceCompleted"))


def first_visit_completion(timeline: Sequence[TimelineEvent]) -> Ratio:
    """S30 (with S28, S25): a completed case (`ServiceCompleted`) counts 1 in the denominator; it is a
    first-visit completion when it had one visit only (one `visit_id` among its `EngineerArrived`), nothing
    was taken back for repair (no `RepairRequested` / `RepairOrderOpened`, S28) and no quality issue was
    reopened (no `IssueReopened`, S25). A case not completed is not counted (0/0)."""
    if not _completed(timeline):
        return Ratio(0, 0)
    visits = {str(e.data.get("visit_id")) for e in _of(timeline, "EngineerArrived")}
    repaired = bool(_of(timeline, "RepairRequested", "RepairOrderOpened"))
    reopened = bool(_of(timeline, "IssueReopened"))
    return Ratio(int(len(visits) <= 1 and not repaired and not reopened), 1)


def site_days(timeline: Sequence[TimelineEvent], *, today: date | None, tz: tzinfo = SITE_TIMEZONE) -> Ratio:
    """S10/S30 days on site of a completed case: the calendar days (site's time zone) on which at least one
    engineer was on site (the record's days on site, decision 0076), over 1 case; 0/0 until the service is
    completed (the visit's length is not known yet)."""
    if not _completed(timeline):
        return Ratio(0, 0)
    ctx = Context(_ordered(timeline), today, tz)
    return Ratio(len({d for span in days_on_site(ctx).values() for d in span}), 1)


# ---------------------------------------------------------------- S25 quality issues

@dataclass(frozen=True)
class IssueFacts:
    logged: int = 0
    closed: int = 0
    closure_hours: float = 0.0
    past_sla: int = 0


def issue_closure(timeline: Sequence[TimelineEvent]) -> IssueFacts:
    """S25: of the issues logged on the case (`IssueLogged`), those closed (`IssueClosed` or
    `IssueResolvedOnSite`, not reopened since: the record's per-item rule) with the hours from the
    `IssueLogged` to their last closing event; and those whose response or resolution clock was breached
    (`IssueSlaBreached`) at least once. Issues not logged on this timeline are not counted."""
    step = BY_ID["S25"]
    ordered = _ordered(timeline)
    logged: dict[str, datetime] = {}
    for e in _of(ordered, "IssueLogged"):
        logged.setdefault(str(e.data.get("issue_id")), e.occurred_at)
    open_ = unclosed_items(step, ordered)
    last_close: dict[str, datetime] = {}
    for e in _of(ordered, *step.done_by):
        last_close[str(e.data.get("issue_id"))] = e.occurred_at
    closed = [i for i in logged if i in last_close and i not in open_]
    hours = sum((last_close[i] - logged[i]).total_seconds() / 3600 for i in closed)
    breached = {str(e.data.get("issue_id")) for e in _of(ordered, "IssueSlaBreached")}
    return IssueFacts(logged=len(logged), closed=len(closed), closure_hours=round(hours, 4),
                      past_sla=len(breached & set(logged)))


# ---------------------------------------------------------------- S34 follow-up: response rate, CSAT, NPS

@dataclass(frozen=True)
class FeedbackFacts:
    calls_closed: int = 0
    calls_answered: int = 0
    calls_unreachable: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    nps_responses: int = 0
    promoters: int = 0
    detractors: int = 0
    receipt_ratings: int = 0
    receipt_rating_sum: float = 0.0


def follow_up(timeline: Sequence[TimelineEvent]) -> FeedbackFacts:
    """S34 (and the S30 receipt rating): follow-up calls ended (`FollowUpCallCompleted`, the newest per
    call); of those, the calls whose survey was answered (a `SurveyAnswered` naming the call: the response
    rate's numerator) and those closed `unreachable`. CSAT over the answers with a `csat` (1-5; satisfied
    4-5), NPS over those with an `nps` (0-10; promoters 9-10, detractors 0-6), every `SurveyAnswered`
    counted once by `response_id` whether by call or by link. The receipt rating: `FeedbackRecorded` of
    kind `receipt_rating` with a score."""
    ended: dict[str, TimelineEvent] = {}
    for e in _ordered(_of(timeline, "FollowUpCallCompleted")):
        ended[str(e.data.get("call_id"))] = e
    responses: dict[str, TimelineEvent] = {}
    for e in _of(timeline, "SurveyAnswered"):
        responses.setdefault(str(e.data.get("response_id")), e)
    answered_calls = {str(e.data.get("call_id")) for e in responses.values() if e.data.get("call_id")}
    csat = [float(e.data["csat"]) for e in responses.values() if e.data.get("csat") is not None]
    nps = [int(e.data["nps"]) for e in responses.values() if e.data.get("nps") is not None]
    ratings = [float(e.data["score"]) for e in _of(timeline, "FeedbackRecorded")
               if e.data.get("kind") == "receipt_rating" and e.data.get("score") is not None]
    return FeedbackFacts(
        calls_closed=len(ended), calls_answered=len(answered_calls & set(ended)),
        calls_unreachable=sum(1 for e in ended.values() if e.data.get("outcome") == "unreachable"),
        csat_responses=len(csat), csat_satisfied=sum(1 for s in csat if s >= CSAT_SATISFIED),
        nps_responses=len(nps), promoters=sum(1 for s in nps if s >= NPS_PROMOTER),
        detractors=sum(1 for s in nps if s <= NPS_DETRACTOR),
        receipt_ratings=len(ratings), receipt_rating_sum=sum(ratings),
    )


# ---------------------------------------------------------------- conformance across cases (S1-S34)

def is_closed(timeline: Sequence[TimelineEvent]) -> bool:
    """Decision 0075: the case is closed when its newest `CaseClosed` / `CaseReopened` is a `CaseClosed`."""
    marks = _ordered(_of(timeline, "CaseClosed", "CaseReopened"))
    return bool(marks) and marks[-1].event_type == "CaseClosed"


def conformance_outcome(timeline: Sequence[TimelineEvent], steps: Sequence[StepConformance]) -> Ratio:
    """S1-S34 of a closed case (decision 0075; before closing every case has open steps by construction):
    1 in the denominator; conformant (numerator 1) when every step is done or not applicable (the record's
    conformance rule, decision 0076). A case not closed is not counted (0/0)."""
    if not is_closed(timeline):
        return Ratio(0, 0)
    counts = summary(steps)
    return Ratio(int(counts["in_progress"] == 0 and counts["missing"] == 0), 1)


# ---------------------------------------------------------------- a case's facts (one row of the read model)

@dataclass
class EngineerFacts:
    """The per-engineer counts of one case (S8, S10, S20)."""

    arrivals: int = 0
    arrivals_judged: int = 0
    arrivals_on_time: int = 0
    arrivals_three_calls_ok: int = 0
    engineer_days: int = 0
    days_signed_in: int = 0
    days_signed_out: int = 0
    days_logged: int = 0


@dataclass
class CaseFacts(EngineerFacts):
    """Every count of one case: the engineers' counts summed, and the case-level ones."""

    completed: int = 0
    first_visit_complete: int = 0
    site_days: int = 0
    issues_logged: int = 0
    issues_closed: int = 0
    closure_hours: float = 0.0
    issues_past_sla: int = 0
    calls_closed: int = 0
    calls_answered: int = 0
    calls_unreachable: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    nps_responses: int = 0
    promoters: int = 0
    detractors: int = 0
    receipt_ratings: int = 0
    receipt_rating_sum: float = 0.0
    cases_judged: int = 0
    cases_conformant: int = 0
    findings_judged: int = 0
    engineers: dict[str, EngineerFacts] = field(default_factory=dict)
    steps: list[StepConformance] = field(default_factory=list)


ENGINEER_COUNTS: tuple[str, ...] = tuple(f.name for f in fields(EngineerFacts))
CASE_COUNTS: tuple[str, ...] = tuple(f.name for f in fields(CaseFacts) if f.name not in ("engineers", "steps"))


def engineers_of(timeline: Sequence[TimelineEvent], team: Sequence[str] = ()) -> list[str]:
    """The engineers a case counts for: the case's team, the visit's team (S3/S6/S12), anyone who arrived,
    and the engineers named on the signed receipt (S30)."""
    ctx = Context(_ordered(timeline))
    found = [*team, *visit_team(ctx), *(str(e.data.get("engineer_id")) for e in ctx.of("EngineerArrived"))]
    found += [str(x) for e in ctx.of("ServiceCompleted") for x in e.data.get("engineer_ids") or []]
    return sorted({e for e in found if e and e != "None"})


def case_facts(timeline: Sequence[TimelineEvent], *, today: date | None, team: Sequence[str] = (),
               tz: tzinfo = SITE_TIMEZONE) -> CaseFacts:
    """Every KPI count of one case (docs/kpis.md), its engineers' counts, and its conformance (S1-S34)."""
    ordered = _ordered(timeline)
    steps = conformance(ordered, today=today, tz=tz)
    on_time, calls = on_time_arrival(ordered), three_call_compliance(ordered)
    presence = presence_compliance(ordered, today=today, tz=tz)
    engineers: dict[str, EngineerFacts] = {}
    for eng in sorted({*engineers_of(ordered, team), *on_time, *calls, *presence}):
        ot, tc, pd = on_time.get(eng, Ratio(0, 0)), calls.get(eng, Ratio(0, 0)), presence.get(eng, PresenceDays())
        engineers[eng] = EngineerFacts(
            arrivals=tc.denominator, arrivals_judged=ot.denominator, arrivals_on_time=int(ot.numerator),
            arrivals_three_calls_ok=int(tc.numerator), engineer_days=pd.engineer_days,
            days_signed_in=pd.signed_in, days_signed_out=pd.signed_out, days_logged=pd.logged)
    fv, sd = first_visit_completion(ordered), site_days(ordered, today=today, tz=tz)
    issues, fb = issue_closure(ordered), follow_up(ordered)
    judged = conformance_outcome(ordered, steps)
    facts = CaseFacts(
        completed=fv.denominator, first_visit_complete=int(fv.numerator), site_days=int(sd.numerator),
        issues_logged=issues.logged, issues_closed=issues.closed, closure_hours=issues.closure_hours,
        issues_past_sla=issues.past_sla, **asdict(fb),
        cases_judged=judged.denominator, cases_conformant=int(judged.numerator),
        findings_judged=summary(steps)["findings"] if judged.denominator else 0,
        engineers=engineers, steps=steps,
    )
    for name in ENGINEER_COUNTS:
        setattr(facts, name, sum(getattr(e, name) for e in engineers.values()))
    return facts


def step_cells(steps: Sequence[StepConformance]) -> dict[str, dict[str, Any]]:
    """The conformance report's cells of one case: each step's status and its number of findings."""
    return {s.step: {"status": s.status, "findings": len(s.findings)} for s in steps}


# ---------------------------------------------------------------- KPIs of a group (the counts summed)

Unit = Literal["share", "mean", "nps"]


@dataclass(frozen=True)
class Kpi:
    name: str
    steps: str
    numerator: str
    denominator: str
    unit: Unit
    description: str


KPIS: tuple[Kpi, ...] = (
    Kpi("on_time_arrival", "S8/S2/S7", "arrivals_on_time", "arrivals_judged", "share",
        "first arrivals no later than the agreed (S2) or rescheduled (S7) time"),
    Kpi("three_call_compliance", "S8", "arrivals_three_calls_ok", "arrivals", "share",
        "first arrivals without a three-call finding"),
    Kpi("sign_in_compliance", "S10", "days_signed_in", "engineer_days", "share", "engineer-days on site signed in"),
    Kpi("sign_out_compliance", "S10", "days_signed_out", "engineer_days", "share",
        "engineer-days on site signed out"),
    Kpi("daily_log_compliance", "S20", "days_logged", "engineer_days", "share",
        "engineer-days on site with a daily log"),
    Kpi("first_visit_completion", "S30/S28/S25", "first_visit_complete", "completed", "share",
        "completed cases with one visit, no repair and no reopened issue"),
    Kpi("days_on_site", "S10/S30", "site_days", "completed", "mean", "days on site per completed case"),
    Kpi("issue_closure_hours", "S25", "closure_hours", "issues_closed", "mean",
        "hours from logging to closing per closed issue"),
    Kpi("issues_past_sla", "S25", "issues_past_sla", "issues_logged", "share",
        "issues logged whose response or resolution SLA was breached"),
    Kpi("response_rate", "S34", "calls_answered", "calls_closed", "share",
        "follow-up calls ended with the survey answered"),
    Kpi("unreachable_rate", "S34", "calls_unreachable", "calls_closed", "share",
        "follow-up calls closed unreachable"),
    Kpi("csat", "S34", "csat_satisfied", "csat_responses", "share", "survey answers satisfied (4-5 of 5)"),
    Kpi("nps", "S34", "promoters-detractors", "nps_responses", "nps",
        "% promoters (9-10) minus % detractors (0-6)"),
    Kpi("receipt_rating", "S30", "receipt_rating_sum", "receipt_ratings", "mean", "mean rating on the receipt"),
    Kpi("conformance_rate", "S1-S34", "cases_conformant", "cases_judged", "share",
        "closed cases with every step done or not applicable"),
    Kpi("findings_per_case", "S1-S34", "findings_judged", "cases_judged", "mean", "findings per closed case"),
)


def kpi_values(totals: Mapping[str, float | None]) -> list[dict[str, Any]]:
    """Each KPI of a group from its summed counts: numerator, denominator and value (none when the
    denominator is 0). Shares are 0-1 (4 decimals), means 2 decimals, NPS -100 to 100 (1 decimal)."""
    out = []
    for k in KPIS:
        if k.unit == "nps":
            num = float(totals.get("promoters") or 0) - float(totals.get("detractors") or 0)
        else:
            num = float(totals.get(k.numerator) or 0)
        den = int(totals.get(k.denominator) or 0)
        value: float | None = None
        if den:
            value = (round(100 * num / den, 1) if k.unit == "nps"
                     else round(num / den, 4 if k.unit == "share" else 2))
        out.append({"kpi": k.name, "steps": k.steps, "unit": k.unit, "numerator": round(num, 4),
                    "denominator": den, "value": value})
    return out
