"""Rules of notifications to people (decision 0090), without I/O: who is told of which event, by which
channel an address is reached, in which language, when a customer may be contacted, when a failed
message is tried again."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any


class Audience(StrEnum):
    """Who a message is for: the case's customer, or a role of the staff directory."""

    CUSTOMER = "customer"
    DISPATCHER = "dispatcher"
    SERVICE_DEPARTMENT = "service_department"
    REGIONAL_CENTRE = "regional_centre"
    DEPARTMENT_HEAD = "department_head"


STAFF = (Audience.DISPATCHER, Audience.SERVICE_DEPARTMENT, Audience.REGIONAL_CENTRE, Audience.DEPARTMENT_HEAD)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class NotificationStatus(StrEnum):
    QUEUED = "queued"  # waiting to be sent (or for the customer's contact window, or a retry)
    SENT = "sent"
    FAILED = "failed"  # every attempt failed: no more
    SUPPRESSED = "suppressed"  # the recipient opted out: recorded, never sent


@dataclass(frozen=True)
class Rule:
    """What one event type tells whom: the template and the audiences, with the step of the standard."""

    template: str
    audiences: tuple[Audience, ...]
    step: str


_C, _D, _S, _R, _H = (Audience.CUSTOMER, Audience.DISPATCHER, Audience.SERVICE_DEPARTMENT,
                      Audience.REGIONAL_CENTRE, Audience.DEPARTMENT_HEAD)

# Who gets what (issue 14, decision 0090). An event type not listed tells nobody.
RULES: dict[str, Rule] = {
    "ServiceRequestReceived": Rule("request_received", (_D,), "S1"),
    "ServicePostponed": Rule("service_postponed", (_C,), "S2"),
    "PostponementDue": Rule("postponement_due", (_D,), "S2"),
    "ServiceDispatched": Rule("service_dispatched", (_C,), "S6"),
    "ArrivalRescheduled": Rule("arrival_rescheduled", (_C, _R), "S7"),
    "SignInMissed": Rule("sign_in_missed", (_D,), "S10"),
    "SignOutMissed": Rule("sign_out_missed", (_D,), "S10"),
    "ScheduleAtRisk": Rule("schedule_at_risk", (_D,), "S12"),
    "DailyLogSubmitted": Rule("daily_log_submitted", (_S,), "S20"),
    "DailyLogMissed": Rule("daily_log_missed", (_D,), "S20"),
    "InternalDisagreementEscalated": Rule("escalation", (_H,), "S24"),
    "BriefingDisputeEscalated": Rule("escalation", (_R,), "S9"),
    "IssueEscalated": Rule("escalation", (_R, _H), "S25"),
    "IssueSlaBreached": Rule("escalation", (_R, _H), "S25"),
    "RepairStatusChanged": Rule("repair_status_changed", (_C,), "S28"),
    "CustomerInformationAnswered": Rule("suggestion_answered", (_C,), "S32"),
    "EngineerDeparted": Rule("engineer_departed", (_R, _H), "S33"),
    "LeaveRefusalBreached": Rule("escalation", (_R, _H), "S33"),
    "FollowUpCallScheduled": Rule("follow_up_call_scheduled", (_C,), "S34"),
    "SurveyLinkIssued": Rule("survey_link", (_C,), "S34"),
}


def rule_for(event_type: str, data: Mapping[str, Any] | None = None, *, daily_log_each: bool = True) -> Rule | None:
    """Who is told of an event of this type (None: nobody). An S7 reschedule whose people the system
    already told (`informed_by_system`, decision 0090) tells nobody again. S20's daily logs reach the
    service department in the day's digest; one message per log only with `daily_log_each`."""
    if data is not None and data.get("informed_by_system"):
        return None
    if event_type == "DailyLogSubmitted" and not daily_log_each:
        return None
    return RULES.get(event_type)


# --- S20: the service department's daily-log digest -------------------------------------------------------

DIGEST_EVENT_TYPE = "DailyLogDigest"
DIGEST_RULE = Rule("daily_log_digest", (Audience.SERVICE_DEPARTMENT,), "S20")
DIGEST_TEXT_LIMIT = 400  # characters of each log text in the digest; the whole log is in the case record


@dataclass(frozen=True)
class DayLogEntry:
    """One S20 fact of a site day on the case timeline: an engineer's log, or a log missed."""

    case_id: str
    crm_reference: str
    site_name: str
    engineer_id: str
    submitted: bool
    work_done: str | None = None
    progress: str | None = None
    problems: str | None = None


def closed_site_days(now: datetime, zone: tzinfo, delay: timedelta, lookback: int) -> list[date]:
    """S20: the site days whose digest is due at `now`, newest first: a day closes at the site's midnight
    (the region's zone) and its digest goes `delay` later; the `lookback` latest such days."""
    last = (now.astimezone(zone) - delay).date() - timedelta(days=1)
    return [last - timedelta(days=i) for i in range(lookback)]


def daily_digest(region: str, day: date, entries: Sequence[DayLogEntry]) -> dict[str, Any] | None:
    """S20: one region's site day for the service department: per case, each engineer's log (work done,
    progress, problems, shortened) and the logs missed, with the counts; None for a day with neither."""
    if not entries:
        return None
    cases: dict[str, dict[str, Any]] = {}
    for e in sorted(entries, key=lambda e: (e.crm_reference, e.case_id, e.engineer_id)):
        case = cases.setdefault(e.case_id, {"crm_reference": e.crm_reference, "site_name": e.site_name,
                                            "logs": [], "missed": []})
        if e.submitted:
            case["logs"].append({"engineer_id": e.engineer_id,
                                 **{k: truncate((v or "").strip(), DIGEST_TEXT_LIMIT) for k, v in
                                    (("work_done", e.work_done), ("progress", e.progress),
                                     ("problems", e.problems))}})
        elif e.engineer_id not in case["missed"]:
            case["missed"].append(e.engineer_id)
    engineers = {e.engineer_id for e in entries}
    return {"region": region, "day": day.isoformat(), "cases": list(cases.values()), "case_count": len(cases),
            "engineer_count": len(engineers), "log_count": sum(len(c["logs"]) for c in cases.values()),
            "missed_count": sum(len(c["missed"]) for c in cases.values())}


def retention_cutoff(now: datetime, days: int) -> datetime | None:
    """Messages queued before this are deleted (their addresses and bodies with them); None: kept (0 days)."""
    return now - timedelta(days=days) if days > 0 else None


# --- addresses and channels -----------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,30}$")
# apprise URL schemes of the enterprise messengers (a recipient's address may be such a URL)
MESSENGER_SCHEMES: dict[str, Channel] = {
    "wecombot": Channel.WECOM, "wxteams": Channel.WECOM, "dingtalk": Channel.DINGTALK,
    "feishu": Channel.FEISHU, "lark": Channel.FEISHU,
}


def channel_of(address: str, messenger_schemes: Sequence[str] = tuple(MESSENGER_SCHEMES)) -> Channel:
    """The channel an address is reached by: an e-mail address by e-mail, a phone number by SMS, an
    apprise URL of an allowed messenger scheme (`wecombot://`, `dingtalk://`, `feishu://`) by that
    messenger. Anything else is refused (ValueError): no arbitrary URL is ever called."""
    text = address.strip()
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme in MESSENGER_SCHEMES and scheme in messenger_schemes:
            return MESSENGER_SCHEMES[scheme]
        raise ValueError(f"the URL scheme {scheme}:// is not an allowed messenger "
                         f"({', '.join(s + '://' for s in messenger_schemes)})")
    if _EMAIL.match(text):
        return Channel.EMAIL
    if _PHONE.match(text):
        return Channel.SMS
    raise ValueError("an e-mail address, a phone number or a messenger URL is required")


def normalised(address: str) -> str:
    """The form an address is compared in (opt-outs, the once-per-event key): trimmed; e-mail
    addresses lower-cased, phone numbers without spaces, dashes and brackets."""
    text = address.strip()
    if "://" in text:
        return text
    if "@" in text:
        return text.lower()
    return re.sub(r"[ ()-]", "", text)


def language_of(preferred: str | None, default: Language) -> Language:
    """The recipient's language when they have one we write in, else the configured default."""
    if preferred:
        base = preferred.strip().lower().replace("_", "-").split("-")[0]
        if base in Language._value2member_map_:
            return Language(base)
    return default


# --- the customer's contact window ----------------------------------------------------------------

def in_window(local: time, start: time, end: time) -> bool:
    """A local time of day inside the window [start, end); a window with start after end spans midnight."""
    if start == end:
        return True  # no window: any time
    if start < end:
        return start <= local < end
    return local >= start or local < end


def window_opens(now: datetime, zone: tzinfo, start: time, end: time) -> datetime:
    """Customers are contacted only inside their contact window (site time): `now` when inside it, else
    the next opening (today's start, or tomorrow's). Pure: the caller gives the clock and the zone."""
    local = now.astimezone(zone)
    if in_window(local.time(), start, end):
        return now
    day = local.date()
    opening = datetime.combine(day, start, tzinfo=zone)
    if opening <= local:
        opening = datetime.combine(day + timedelta(days=1), start, tzinfo=zone)
    return opening.astimezone(now.tzinfo)


# --- retries --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    jitter: float = 0.5  # a delay is cut by up to this fraction at random


def retry_at(attempt: int, now: datetime, policy: RetryPolicy, rand: float) -> datetime | None:
    """After failed attempt number `attempt`: when to try again (exponential backoff from `base`,
    capped, cut by up to `jitter` at random; `rand` in [0, 1)), or None: it has failed for good."""
    if attempt >= policy.max_attempts:
        return None
    raw = min(policy.base * (2 ** min(max(attempt, 1) - 1, 40)), policy.max_delay)
    return now + raw * (1 - policy.jitter * min(max(rand, 0.0), 1.0))


# --- secrets in a message (S34's survey link) --------------------------------------------------------

def secret_marker(field: str) -> str:
    """What a stored message shows in place of an event's secret field (the token of a one-time link): the
    value itself is kept beside it only until the message is sent, and put in by the worker."""
    return f"⟦{field}⟧"


def reveal(text: str, secrets: Mapping[str, str] | None) -> str:
    """The text the recipient gets: each secret's marker replaced by its value."""
    for field, value in (secrets or {}).items():
        text = text.replace(secret_marker(field), value)
    return text


def message_id(notification_id: str, sender: str) -> str:
    """The e-mail Message-ID of a notification: the same on every attempt, so a message sent twice (the
    worker died after the send and before recording it: at least once) is one mail to a mail client."""
    domain = sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else "notifications.invalid"
    return f"<notification-{notification_id}@{domain}>"


def truncate(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
