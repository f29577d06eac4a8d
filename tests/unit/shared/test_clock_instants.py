"""Rows written together keep their order in a time column, and all are due by the moment they were written."""

from datetime import UTC, datetime, timedelta

from shared.clock import instants


def test_instants_are_a_microsecond_apart_in_order_and_the_last_is_now() -> None:
    now = datetime(2027, 1, 4, 8, tzinfo=UTC)
    at = instants(now, 3)
    assert at == [now - timedelta(microseconds=2), now - timedelta(microseconds=1), now]
    assert instants(now, 0) == [] and instants(now, 1) == [now]
