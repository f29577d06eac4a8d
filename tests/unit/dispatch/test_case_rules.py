"""Pure rules of the service case: status transitions and the S6 dispatch gate."""

from __future__ import annotations

import pytest

from services.dispatch.cases.domain import DispatchReadiness, check_dispatch_gate, require_transition
from services.dispatch.cases.models import CaseStatus
from shared.api.problems import GateRefused

READY = DispatchReadiness(status=CaseStatus.ACKNOWLEDGED, conditions_confirmed=True, team_size=2,
                          project_managers=1, plan_status="approved", plan_approved=True, pack_attached=True,
                          preparation_missing=[])


def test_dispatch_gate_passes_when_s1_to_s6_hold():
    check_dispatch_gate(READY)


def test_dispatch_gate_lists_every_missing_condition():
    nothing = DispatchReadiness(status=CaseStatus.RECEIVED, conditions_confirmed=False, team_size=0,
                                project_managers=0, plan_status="submitted", plan_approved=False,
                                pack_attached=False, preparation_missing=["tools", "spare_parts"])
    with pytest.raises(GateRefused) as refused:
        check_dispatch_gate(nothing)
    missing = refused.value.extra["missing_conditions"]
    assert [m.split(":")[0] for m in missing] == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert "submitted" in missing[3] and "tools, spare_parts" in missing[5]


def test_dispatch_gate_checks_the_project_manager_and_refuses_a_second_dispatch():
    from dataclasses import replace

    with pytest.raises(GateRefused) as refused:
        check_dispatch_gate(replace(READY, status=CaseStatus.DISPATCHED, project_managers=0))
    missing = refused.value.extra["missing_conditions"]
    assert len(missing) == 2 and "project manager" in missing[1]


def test_case_status_moves_only_forward():
    require_transition(CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED)
    with pytest.raises(GateRefused) as refused:
        require_transition(CaseStatus.DISPATCHED, CaseStatus.ACKNOWLEDGED)
    assert refused.value.extra["missing_conditions"] == ["S1: a case that is dispatched cannot become acknowledged"]
