"""The measures' arithmetic: NPS the standard way, CSAT, rates and grouping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.feedback.measures.domain import CallFact, GroupBy, ResponseFact, csat_percent, nps, summarise


@pytest.mark.parametrize(("scores", "expected"), [
    ([10, 9, 9, 10], 100.0),
    ([0, 6, 3], -100.0),
    ([7, 8, 8, 7], 0.0),                     # passives only
    ([9, 10, 7, 8, 6, 0, 3, 10, 9, 10], 20.0),  # 5 promoters, 3 detractors of 10
    ([9, 6], 0.0),                           # the boundaries: 9 promotes, 6 detracts
    ([9, 7, 6], 0.0),
    ([10, 10, 8], 66.7),                     # rounded to one decimal
    ([], None),
])
def test_nps_is_percent_promoters_minus_percent_detractors(scores, expected):
    assert nps(scores) == expected


def test_csat_percent_counts_4_and_5_as_satisfied():
    assert csat_percent([5, 4, 3, 2]) == 50.0
    assert csat_percent([3]) == 0.0
    assert csat_percent([]) is None


T0 = datetime(2026, 12, 2, 3, tzinfo=UTC)


def call(region="east", engineers=("e1",), unreachable=False, answered=True, hours=24.0, closed=T0) -> CallFact:
    return CallFact(closed_at=closed, region=region, equipment_type="GIS", engineer_ids=engineers,
                    unreachable=unreachable, answered=answered, completed_at=T0 - timedelta(hours=hours + 1),
                    first_attempt_at=T0 - timedelta(hours=1))


def response(region="east", engineers=("e1",), csat=5, nps_score=10, at=T0) -> ResponseFact:
    return ResponseFact(answered_at=at, region=region, equipment_type="GIS", engineer_ids=engineers, csat=csat,
                        nps=nps_score)


def test_rates_and_time_to_call_over_all_calls():
    rows = summarise([call(), call(hours=48), call(unreachable=True, answered=False)],
                     [response(), response(csat=2, nps_score=3)], GroupBy.ALL)
    assert rows == [{
        "group": "all", "calls_closed": 3, "responses": 2, "response_rate": 0.6667, "unreachable_rate": 0.3333,
        "csat_percent": 50.0, "csat_mean": 3.5, "nps": 0.0, "promoters": 1, "detractors": 1, "passives": 0,
        "mean_hours_completion_to_call": 32.0,
    }]


def test_grouping_by_region_engineer_and_month():
    calls = [call(region="east", engineers=("e1", "e2")), call(region="west", engineers=("e2",))]
    responses = [response(region="east", engineers=("e1", "e2")), response(region="west", engineers=("e2",),
                                                                           nps_score=0)]
    by_region = {r["group"]: r for r in summarise(calls, responses, GroupBy.REGION)}
    assert by_region["east"]["nps"] == 100.0 and by_region["west"]["nps"] == -100.0
    by_engineer = {r["group"]: r for r in summarise(calls, responses, GroupBy.ENGINEER)}
    assert by_engineer["e1"]["calls_closed"] == 1 and by_engineer["e2"]["calls_closed"] == 2
    assert by_engineer["e2"]["nps"] == 0.0
    by_month = summarise([call(closed=T0 + timedelta(days=30))], [response()], GroupBy.MONTH)
    assert [r["group"] for r in by_month] == ["2026-12", "2027-01"]
    assert summarise([], [], GroupBy.ALL) == []
