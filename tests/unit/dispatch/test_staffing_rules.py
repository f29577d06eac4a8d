"""S3 / S12 staffing rules: policy lookup and the assignment gate, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.dispatch.staffing.domain import (
    Busy,
    Candidate,
    Requirement,
    check_added_staff,
    check_assignment,
    default_rules,
    requirement_for,
    team_problems,
)
from shared.api.problems import GateRefused

START = datetime(2026, 12, 1, 8, tzinfo=UTC)
END = START + timedelta(days=4)
REQ = Requirement(min_grade=3, head_count=2, certificates=("hv_live_work",))


def engineer(eid: str, grade: int = 4, pm: bool = False, cert_until: date | None = date(2027, 6, 1),
             busy: tuple[Busy, ...] = ()) -> Candidate:
    certs = {"hv_live_work": cert_until} if cert_until else {}
    return Candidate(eid, eid.title(), grade, True, certs, busy, pm)


def test_policy_lookup_uses_the_stored_rule_then_the_default():
    rules = [{"urgency": "high", "difficulty": "high", "customer_importance": "high", "min_grade": 5, "head_count": 4}]
    certs = [{"equipment_type": "GIS", "certificate_type": "hv_live_work"},
             {"equipment_type": "transformer", "certificate_type": "crane"}]
    req = requirement_for(rules, certs, urgency="high", difficulty="high", customer_importance="high",
                          equipment_type="GIS")
    assert req == Requirement(5, 4, ("hv_live_work",))
    fallback = requirement_for(rules, certs, urgency="low", difficulty="low", customer_importance="low",
                               equipment_type="other")
    assert fallback == Requirement(1, 1, ())
    assert len(default_rules()) == 27


def test_a_team_meeting_every_rule_is_assigned():
    check_assignment([engineer("a", pm=True), engineer("b", grade=3)], [], REQ, START, END)


def test_the_refusal_names_every_failing_rule():
    team = [
        engineer("low", grade=2),
        engineer("busy", busy=(Busy(START + timedelta(days=1), END + timedelta(days=3), "case CRM-9"),)),
        engineer("expired", cert_until=date(2026, 12, 2)),
        engineer("nocert", cert_until=None),
    ]
    with pytest.raises(GateRefused) as refused:
        check_assignment(team, ["ghost"], REQ, START, END)
    missing = refused.value.extra["missing_conditions"]
    text = "\n".join(missing)
    assert "ghost is not on the roster" in text
    assert "exactly one project manager (has 0)" in text
    assert "low has grade 2, below the minimum grade 3" in text
    assert "busy is double-booked" in text and "CRM-9" in text
    assert "expired's hv_live_work certificate expires on 2026-12-02" in text
    assert "nocert has no hv_live_work certificate" in text
    assert len(missing) == 6


def test_head_count_two_project_managers_and_duplicates():
    assert team_problems([engineer("a")], [], REQ, START, END) == ["S3: head count 1 is below the required 2"]
    two_pms = team_problems([engineer("a", pm=True), engineer("b", pm=True)], [], REQ, START, END)
    assert two_pms == ["S3: a team of 2 needs exactly one project manager (has 2)"]
    dup = team_problems([engineer("a", pm=True), engineer("a")], [], REQ, START, END)
    assert "listed twice" in dup[0]


def test_a_window_that_only_touches_another_booking_is_not_double_booking():
    back_to_back = (Busy(END, END + timedelta(days=2), "next job"), Busy(START - timedelta(days=2), START, "leave"))
    check_assignment([engineer("a", pm=True, busy=back_to_back), engineer("b")], [], REQ, START, END)


def test_added_staff_follow_the_same_rules_and_the_request():
    existing = [engineer("a", pm=True), engineer("b")]
    check_added_staff(existing, [engineer("c")], [], REQ, 1, START, END)
    with pytest.raises(GateRefused) as refused:
        check_added_staff(existing, [engineer("c", grade=1, pm=True)], [], REQ, 2, START, END)
    missing = refused.value.extra["missing_conditions"]
    assert any("below the minimum grade" in m for m in missing)
    assert any("exactly one project manager (has 2)" in m for m in missing)
    assert any("2 engineers were requested, 1 added" in m for m in missing)
