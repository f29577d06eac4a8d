"""Pure rules of a failed value (S13, S25, S26): sign-off only with a disposition."""

from __future__ import annotations

import pytest

from services.onsite.work.domain import (
    check_disposition,
    check_sign_off,
    disposition_after_reading,
    disposition_missing,
)
from shared.api.problems import GateRefused


def test_a_failed_value_is_signed_off_only_with_a_disposition():
    with pytest.raises(GateRefused) as exc:
        check_sign_off(what="item r1", requires_witness=True, has_witness=False, passed=False)
    assert exc.value.extra["gate"] == "sign-off"
    assert exc.value.extra["missing_conditions"] == [
        "S17: item r1 needs a witness (name, role, signature) before sign-off",
        "S25: item r1 failed (outside its limits) and has no disposition: re-measure within limits, "
        "link the logged S25 quality issue, or record a concession signed by the customer's witness",
    ]
    check_sign_off(what="item r1", requires_witness=False, has_witness=False, passed=False, disposition="issue")
    check_sign_off(what="item r1", requires_witness=False, has_witness=False, passed=False,
                   disposition="concession")
    check_sign_off(what="item r1", requires_witness=False, has_witness=False, passed=True)
    # `remeasured` belongs to a passing value; a failed current value is not disposed of by it.
    assert disposition_missing(what="item r1", passed=False, disposition="remeasured")


def test_a_passing_re_measurement_after_a_failed_one_is_its_disposition():
    assert disposition_after_reading(passed=True, failed_before=True) == "remeasured"
    assert disposition_after_reading(passed=True, failed_before=False) is None
    # A new failed reading needs its own disposition, whatever came before.
    assert disposition_after_reading(passed=False, failed_before=True) is None


def test_a_disposition_is_for_a_failed_unsigned_entry_and_links_an_issue_logged_on_the_visit():
    with pytest.raises(GateRefused) as exc:
        check_disposition(what="item r1", kind="issue", passed=True, signed_off=True, issue_id="i-9",
                          issue_logged=False)
    assert exc.value.extra["gate"] == "disposition"
    assert exc.value.extra["missing_conditions"] == [
        "item r1 is already signed off",
        "item r1 passed: no disposition is needed",
        "S25: quality issue i-9 is not logged on this visit",
    ]
    check_disposition(what="item r1", kind="issue", passed=False, signed_off=False, issue_id="i-9",
                      issue_logged=True)
    check_disposition(what="item r1", kind="concession", passed=False, signed_off=False)
