"""Pure rules of the standard, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.onsite.visits.domain import require_team_member, three_call_findings
from shared.api.problems import Forbidden
from shared.events.onsite import ThreeCallEntry

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def calls(*parties: str) -> list[ThreeCallEntry]:
    return [ThreeCallEntry(party=p, called_at=T0 + timedelta(minutes=i), outcome="ok")  # type: ignore[arg-type]
            for i, p in enumerate(parties)]


def test_three_calls_in_order_have_no_finding():
    assert three_call_findings(calls("account_manager", "customer_contact", "site_interface")) == []


def test_three_calls_out_of_order_or_missing_are_findings():
    out_of_order = three_call_findings(calls("site_interface", "account_manager", "customer_contact"))
    assert out_of_order == ["S8: calls out of order (site_interface -> account_manager -> customer_contact)"]
    missing = three_call_findings(calls("account_manager"))
    assert "S8: no call to the customer contact" in missing and "S8: no call to the site interface" in missing
    assert len(three_call_findings([])) == 3


def test_order_is_judged_by_call_time_not_by_list_order():
    entries = calls("account_manager", "customer_contact", "site_interface")
    assert three_call_findings(list(reversed(entries))) == []


def test_only_the_team_works_on_a_visit():
    require_team_member(["a", "b"], "b")
    with pytest.raises(Forbidden):
        require_team_member(["a", "b"], "c")
