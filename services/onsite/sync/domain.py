"""Pure rules of the changes feed (offline sync, issue 16, decision 0091): what a change is about, where
to read it, and the feed's opaque cursors. No I/O."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.messages import msg
from shared.problems import InvalidInput

# The record an event is about: the first of these id fields it carries names the kind.
_ID_FIELDS = (
    ("briefing_id", "briefing"), ("dispute_id", "briefing_dispute"), ("permit_id", "permit"),
    ("risk_id", "schedule_risk"), ("milestone_id", "milestone"), ("entry_id", "communication"),
    ("report_id", "customer_report"), ("witness_id", "witness"), ("record_id", "process_record"),
    ("evidence_id", "evidence"), ("leave_id", "leave"), ("handover_id", "handover"),
    ("repair_request_id", "repair_request"), ("revision_id", "drawing_revision"), ("training_id", "training"),
    ("info_id", "customer_information"), ("issue_id", "quality_issue"),
)
# Events about an engineer's day (S10 presence, S20 daily log), a check of an engineer (S28) or a departure.
_ENGINEER_DAY = {
    "EngineerCheckedIn": "presence", "EngineerCheckedOut": "presence", "SignOutMissed": "presence",
    "SignInMissed": "presence", "DailyLogSubmitted": "daily_log", "DailyLogMissed": "daily_log",
}
_ENGINEER = {"EngineerArrived": "arrival", "SelfCheckCompleted": "check", "EngineerDeparted": "departure"}
# Where a client reads each kind: the visit's sub-collection (the visit itself when absent).
_COLLECTIONS = {
    "briefing": "briefings", "briefing_dispute": "briefings", "permit": "permits", "task": "tasks",
    "process_data": "process-data", "milestone": "milestones", "witness": "witnesses", "evidence": "evidence",
    "presence": "presence", "daily_log": "daily-logs", "communication": "communications",
    "customer_report": "customer-reports", "process_record": "process-records", "leave": "leave-requests",
    "raised_item": "raised-items", "training": "trainings", "customer_information": "customer-information",
    "check": "checks", "drawing_revision": "drawing-revisions", "departure": "departures",
}
_CURSOR_PREFIX = "c1:"


@dataclass(frozen=True)
class Subject:
    """The record a change is about: its kind and id."""

    kind: str
    id: str


def subject_of(what: str, data: Mapping[str, Any]) -> Subject:
    """The record an onsite event (`what`, its `data`) changed; the visit when it names no record."""
    if what in _ENGINEER_DAY:
        return Subject(_ENGINEER_DAY[what], f"{data.get('engineer_id')}/{data.get('day')}")
    if what in _ENGINEER:
        return Subject(_ENGINEER[what], str(data.get("engineer_id")))
    if what == "CrossCheckCompleted":
        return Subject("check", str(data.get("checked_engineer_id")))
    if what == "ProcessDataRecorded":
        return Subject("process_data", f"{data.get('task_id')}/{data.get('item_id')}")
    for field, kind in _ID_FIELDS:
        if data.get(field) is not None:
            return Subject(kind, str(data[field]))
    if data.get("item_id") is not None:  # S22 raised items (referral, customer request, disagreement)
        return Subject("raised_item", str(data["item_id"]))
    if data.get("task_id") is not None:
        return Subject("task", str(data["task_id"]))
    return Subject("visit", str(data.get("visit_id", "")))


def link_of(visit_id: object, kind: str) -> str:
    """Where a client reads a changed record of `kind`: its collection on the visit, or the visit."""
    collection = _COLLECTIONS.get(kind)
    return f"/visits/{visit_id}/{collection}" if collection else f"/visits/{visit_id}"


def encode_cursor(seq: int) -> str:
    """The opaque cursor of a position in the feed (after change number `seq`; 0: the beginning)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, field: str = "since") -> int:
    """The position a cursor names (no cursor: the beginning); a cursor this feed did not give is refused."""
    if cursor is None or cursor == "":
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(text)
        seq = int(text.removeprefix(_CURSOR_PREFIX))
        if seq < 0:
            raise ValueError(text)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise InvalidInput(msg("is not a cursor of this changes feed (pass back `cursor` or `next_cursor` as given)"),
                           field=field) from None
    return seq


def page_cursors(seqs: list[int], *, since: int, limit: int) -> tuple[int, int | None]:
    """The feed's two cursors for a page read as `limit + 1` changes after `since` (`seqs`, ascending).

    Returns the position to store (after the last change shown; `since` when there is none) and the
    next page's position: only when a change beyond this page exists, so it never leads to an empty page.
    """
    shown = seqs[:limit]
    position = shown[-1] if shown else since
    return position, (position if len(seqs) > limit else None)
