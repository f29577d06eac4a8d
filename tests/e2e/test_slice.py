"""The foundation slice through four real service processes, over HTTP and Kafka."""

from __future__ import annotations

import pytest

from devstack.demo import run_slice

pytestmark = pytest.mark.e2e


def test_a_case_flows_through_all_four_services(client):
    result = run_slice(client, timeout=60, say=lambda _line: None)
    types = [e["event_type"] for e in result["timeline"]]
    # Per-case order holds across services: each step follows its cause.
    for earlier, later in [("ServiceRequestReceived", "ServiceDispatched"), ("ServiceDispatched", "EngineerArrived"),
                           ("EngineerArrived", "ServiceCompleted"), ("ServiceCompleted", "FollowUpCallScheduled")]:
        assert types.index(earlier) < types.index(later)
    ids = [e["event_id"] for e in result["timeline"]]
    assert len(ids) == len(set(ids)), "each event is applied once"
    correlation = {e["data"].get("case_id") for e in result["timeline"]}
    assert correlation == {result["case_id"]}
