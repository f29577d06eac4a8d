"""Pure rules of the standard, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.cases.domain import check_dispatch_gate, require_transition, team_problems
from services.dispatch.cases.models import CaseStatus, TeamMemberIn
from shared.api.problems import Conflict, GateRefused

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def member(eid: str, pm: bool = False) -> TeamMemberIn:
    return TeamMemberIn(engineer_id=eid, name=eid, grade=3, is_project_manager=pm)


def test_two_engineers_need_exactly_one_project_manager():
    assert team_problems([member("a")]) == []
    assert team_problems([member("a", True), member("b")]) == []
    assert len(team_problems([member("a"), member("b")])) == 1
    assert len(team_problems([member("a", True), member("b", True)])) == 1
    assert "twice" in team_problems([member("a", True), member("a")])[0]


def test_dispatch_gate_lists_every_missing_condition():
    with pytest.raises(GateRefused) as refused:
        check_dispatch_gate(CaseStatus.RECEIVED, [member("a"), member("b")], T0, T0)
    assert len(refused.value.extra["missing_conditions"]) == 3
    check_dispatch_gate(CaseStatus.ACKNOWLEDGED, [member("a", True), member("b")], T0, T0 + timedelta(days=1))


def test_case_status_moves_only_forward():
    require_transition(CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED)
    with pytest.raises(Conflict):
        require_transition(CaseStatus.DISPATCHED, CaseStatus.ACKNOWLEDGED)
