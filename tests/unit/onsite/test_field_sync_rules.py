"""Offline sync rules (decision 0091): the act's time, what a change is about, the feed's cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.onsite.reported_times import Earlier, act_time, check_reported_time
from services.onsite.sync.domain import Subject, decode_cursor, encode_cursor, link_of, page_cursors, subject_of
from shared.problems import InvalidInput

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_the_acts_time_is_the_clients_when_given_else_the_receipt() -> None:
    assert act_time(NOW - timedelta(hours=3), NOW) == NOW - timedelta(hours=3)
    assert act_time(None, NOW) == NOW


def test_an_offline_acts_time_is_checked_like_every_reported_time() -> None:
    arrival = Earlier("the first arrival on site", NOW - timedelta(days=1))
    check_reported_time(step="S13 process data", field="body.occurred_at", at=NOW - timedelta(hours=20), now=NOW,
                        dispatched_at=NOW - timedelta(days=3), after=[arrival])
    with pytest.raises(InvalidInput) as refused:
        check_reported_time(step="S13 process data", field="body.occurred_at", at=NOW - timedelta(days=2), now=NOW,
                            dispatched_at=NOW - timedelta(days=3), after=[arrival])
    assert refused.value.extra == {"field": "body.occurred_at"} and "first arrival" in refused.value.detail
    with pytest.raises(InvalidInput, match="in the future"):
        check_reported_time(step="S20 daily log", field="body.occurred_at", at=NOW + timedelta(minutes=6), now=NOW,
                            dispatched_at=None, skew=timedelta(minutes=5))


@pytest.mark.parametrize(("what", "data", "subject"), [
    ("EngineerCheckedIn", {"engineer_id": "e1", "day": "2026-11-28"}, Subject("presence", "e1/2026-11-28")),
    ("DailyLogSubmitted", {"engineer_id": "e1", "day": "2026-11-28"}, Subject("daily_log", "e1/2026-11-28")),
    ("EngineerArrived", {"engineer_id": "e1"}, Subject("arrival", "e1")),
    ("CrossCheckCompleted", {"checked_engineer_id": "e2", "checker_id": "e1"}, Subject("check", "e2")),
    ("ProcessDataRecorded", {"task_id": "t1", "item_id": "r1"}, Subject("process_data", "t1/r1")),
    ("TaskStarted", {"task_id": "t1"}, Subject("task", "t1")),
    ("WitnessRecorded", {"witness_id": "w1", "subject_id": "x"}, Subject("witness", "w1")),
    ("ReferralRaised", {"item_id": "i1"}, Subject("raised_item", "i1")),
    ("IssueLogged", {"issue_id": "q1"}, Subject("quality_issue", "q1")),
    ("WorkPlanUpdated", {"visit_id": "v1", "tasks": 3}, Subject("visit", "v1")),
])
def test_a_change_names_the_record_it_changed(what: str, data: dict[str, str], subject: Subject) -> None:
    assert subject_of(what, data) == subject


def test_a_change_links_to_where_the_record_is_read() -> None:
    assert link_of("v1", "task") == "/visits/v1/tasks"
    assert link_of("v1", "presence") == "/visits/v1/presence"
    assert link_of("v1", "visit") == "/visits/v1" and link_of("v1", "quality_issue") == "/visits/v1"


def test_cursors_are_opaque_round_trips_and_foreign_ones_are_refused() -> None:
    assert decode_cursor(encode_cursor(42)) == 42 and decode_cursor(None) == 0 and decode_cursor("") == 0
    assert "42" not in encode_cursor(42)
    for bad in ("42", "not-a-cursor", "%%%", encode_cursor(1)[:-2] + "!!"):
        with pytest.raises(InvalidInput) as refused:
            decode_cursor(bad)
        assert refused.value.extra == {"field": "since"}


def test_the_next_cursor_never_leads_to_an_empty_page() -> None:
    # read limit + 1: a change beyond the page means more to read
    assert page_cursors([5, 7, 9], since=4, limit=2) == (7, 7)
    assert page_cursors([5, 7], since=4, limit=2) == (7, None)
    assert page_cursors([], since=4, limit=2) == (4, None)  # up to date: the client keeps its cursor
