"""Pure rules of repair orders (S28): one status step at a time, the customer told each time."""

from __future__ import annotations

from itertools import pairwise

import pytest

from services.quality.repairs.domain import REPAIR_FLOW, customer_notification, status_change_gate
from shared.api.problems import GateRefused


def test_the_repair_moves_one_step_at_a_time():
    for current, new in pairwise(REPAIR_FLOW):
        status_change_gate(current, new)


def test_a_skipped_status_is_named():
    with pytest.raises(GateRefused) as info:
        status_change_gate("received", "tested")
    assert info.value.extra["missing_conditions"] == ["status diagnosed", "status repaired"]


def test_the_repair_never_goes_back():
    with pytest.raises(GateRefused) as info:
        status_change_gate("tested", "diagnosed")
    assert info.value.extra["missing_conditions"] == ["a status after tested (the repair is already tested)"]


def test_the_customer_notification_names_receipt_and_status():
    text = customer_notification("RR-1", "density relay", "shipped_back", "Tracking 42")
    assert text == "Repair RR-1: your density relay has been shipped back to you. Tracking 42"
