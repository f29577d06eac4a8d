"""Follow-up call rules, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.feedback.calls.domain import add_business_days


@pytest.mark.parametrize(("start", "days", "expected"), [
    (datetime(2026, 11, 27, 9, tzinfo=UTC), 2, datetime(2026, 12, 1, 9, tzinfo=UTC)),   # Fri + 2 -> Tue
    (datetime(2026, 11, 28, 9, tzinfo=UTC), 1, datetime(2026, 12, 1, 9, tzinfo=UTC)),   # Sat -> Mon + 1
    (datetime(2026, 11, 25, 9, tzinfo=UTC), 0, datetime(2026, 11, 25, 9, tzinfo=UTC)),
])
def test_business_days(start, days, expected):
    assert add_business_days(start, days) == expected
