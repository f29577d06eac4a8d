"""Plausible reported times (services/onsite/reported_times.py): each rule refuses naming the field and itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.onsite.reported_times import Earlier, check_reported_time, latest
from shared.api.problems import InvalidInput

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
DISPATCHED = NOW - timedelta(days=2)
SKEW = timedelta(minutes=5)


def check(at: datetime, *after: Earlier) -> None:
    check_reported_time(step="S33 departure", field="body.departed_at", at=at, now=NOW, dispatched_at=DISPATCHED,
                        after=after, skew=SKEW)


def refusal(at: datetime, *after: Earlier) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        check(at, *after)
    assert refused.value.extra["field"] == "body.departed_at"
    assert refused.value.detail.startswith("S33 departure: body.departed_at")
    return refused.value


def test_not_in_the_future_beyond_the_skew():
    check(NOW + SKEW)
    assert "in the future" in refusal(NOW + SKEW + timedelta(seconds=1)).detail


def test_not_before_the_dispatch_beyond_the_skew():
    check(DISPATCHED - SKEW)
    assert "before the visit was dispatched" in refusal(DISPATCHED - SKEW - timedelta(seconds=1)).detail


def test_in_the_order_of_the_standard():
    arrival = Earlier("the engineer's arrival", NOW - timedelta(hours=8))
    check(NOW, arrival, Earlier("the signed receipt", None))  # unknown earlier times do not refuse
    detail = refusal(NOW - timedelta(hours=9), arrival).detail
    assert "before the engineer's arrival" in detail and "in the order of the standard" in detail


def test_an_instant_needs_its_zone():
    assert "time zone" in refusal(datetime(2026, 11, 29, 3, 0)).detail


def test_latest_of_known_times():
    assert latest([None, NOW, NOW - SKEW]) == NOW and latest([None]) is None
