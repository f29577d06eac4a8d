"""Rules of notifications to people (decision 0090), without I/O: who is told of which event, by which
channel an address is reached, in which language, when a customer may be contacted, when a failed
message is tried again."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
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
}


def rule_for(event_type: str, data: Mapping[str, Any] | None = None) -> Rule | None:
    """Who is told of an event of this type (None: nobody). An S7 reschedule whose people the system
    already told (`informed_by_system`, decision 0090) tells nobody again."""
    if data is not None and data.get("informed_by_system"):
        return None
    return RULES.get(event_type)


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


def truncate(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
