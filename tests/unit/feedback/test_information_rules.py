"""S32 rules and the acting agent, without a server."""

from __future__ import annotations

import pytest

from services.feedback.agents import acting_agent
from services.feedback.information.domain import check_answer_gate, may_answer, route
from shared.api.auth import Principal
from shared.api.problems import Forbidden, GateRefused, InvalidInput

ROUTING = {"opinion": "service_department", "suggestion": "technology_department", "business_lead": "regional_centre"}


def test_routing_by_kind_to_a_department_or_the_regional_centre():
    assert route("opinion", "east", ROUTING) == "service_department"
    assert route("business_lead", "east", ROUTING) == "regional_centre:east"
    assert route("business_lead", "", ROUTING) == "regional_centre"
    assert route("opinion", "east", ROUTING, requested="sales") == "sales"
    assert route("unknown", "west", {}) == "regional_centre:west"


def test_the_answer_gate_lists_every_missing_condition():
    with pytest.raises(GateRefused) as refused:
        check_answer_gate(status="answered", answer=" ", notified=False)
    assert refused.value.extra["missing_conditions"] == [
        "information still open (it is answered)", "the department's answer",
        "a recorded notification of the customer"]
    check_answer_gate(status="routed", answer="done", notified=True)


def test_who_may_answer():
    rc = frozenset({"regional_centre"})
    head = frozenset({"department_head"})
    assert may_answer("regional_centre:east", roles=rc, region="east", unit=None)
    assert not may_answer("regional_centre:east", roles=rc, region="west", unit=None)
    assert not may_answer("regional_centre:east", roles=head, region="east", unit="service_department")
    assert may_answer("service_department", roles=head, region=None, unit="service_department")
    assert not may_answer("service_department", roles=head, region=None, unit="sales")
    assert may_answer("anything", roles=frozenset({"admin"}), region=None, unit=None)


def test_the_acting_agent():
    tool = Principal(subject="cc-tool", roles=frozenset({"call_centre_tool"}))
    human = Principal(subject="agent-1", roles=frozenset({"call_centre_agent"}))
    assert acting_agent(tool, "agent-7") == "agent-7"
    with pytest.raises(InvalidInput):
        acting_agent(tool, None)
    assert acting_agent(human, None) == "agent-1"
    assert acting_agent(human, "agent-1") == "agent-1"
    with pytest.raises(Forbidden):
        acting_agent(human, "agent-2")
