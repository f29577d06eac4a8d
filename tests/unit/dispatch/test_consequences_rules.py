"""Pure rules of the consequences in dispatch: live-work certificates, S6 items, S22-S24 answerers, S24
mediation (issue 13, item 5)."""

from __future__ import annotations

from datetime import date

import pytest

from services.dispatch.conditions.domain import check_call_allowed
from services.dispatch.preparation.domain import check_may_tick, fresh_items, merged
from services.dispatch.routing.domain import answering_on_behalf, check_mediation
from services.dispatch.staffing.domain import default_rules, live_work_missing, requirement_for
from shared.api.problems import Forbidden, GateRefused


def test_the_default_policy_requires_the_live_work_certificate_for_live_hv_work():
    kwargs = dict(urgency="low", difficulty="low", customer_importance="low", equipment_type="GIS")
    assert requirement_for(default_rules(), [], **kwargs).certificates == ()
    assert requirement_for(default_rules(), [], live_hv=True, **kwargs).certificates == ("hv_live_work",)
    assert live_work_missing([("a", None), ("b", date(2026, 1, 1)), ("c", date(2027, 1, 1))],
                             until=date(2026, 6, 1)) == [
        "S3: engineer a has no hv_live_work certificate (the pack holds live-HV work)",
        "S3: engineer b's hv_live_work certificate expires on 2026-01-01, before the planned end 2026-06-01"]


def test_s6_items_come_from_the_standard_the_plan_and_s2_and_keep_their_ticks():
    items = fresh_items(["Torque wrench", "Tools"], ["SF6 gas", "torque wrench"])
    assert [(i["label"], i["source"]) for i in items[6:]] == [("Torque wrench", "plan"), ("SF6 gas", "s2")]
    assert len(fresh_items()) == 6
    ticked = [{**items[6], "done": True, "ticked_by": "eng-1"}]
    again = merged(ticked, fresh_items(["Torque wrench"], []))
    assert again[6]["done"] is True and again[6]["ticked_by"] == "eng-1" and len(again) == 7
    check_may_tick(is_dispatcher=False, subject="eng-1", team=["eng-1"])
    with pytest.raises(Forbidden):
        check_may_tick(is_dispatcher=False, subject="eng-9", team=["eng-1"])


def test_s22_s24_the_routed_unit_answers_or_someone_on_its_behalf():
    head = frozenset({"department_head"})
    assert answering_on_behalf(status="assigned", unit="gis", roles=head, principal_unit="gis",
                               principal_region=None) is False
    assert answering_on_behalf(status="assigned", unit="north", roles=frozenset({"regional_centre"}),
                               principal_unit=None, principal_region="north") is False
    assert answering_on_behalf(status="assigned", unit="gis", roles=frozenset({"dispatcher"}),
                               principal_unit=None, principal_region=None) is True
    assert answering_on_behalf(status="escalated", unit="gis", roles=head, principal_unit="hv",
                               principal_region=None) is False
    with pytest.raises(Forbidden):
        answering_on_behalf(status="assigned", unit="gis", roles=head, principal_unit="hv", principal_region=None)


def test_s24_mediation_and_s2_acknowledgement_refuse_as_gates():
    check_mediation(kind="internal_disagreement", status="assigned")
    with pytest.raises(GateRefused):
        check_mediation(kind="referral", status="escalated")
    check_call_allowed("acknowledged")
    with pytest.raises(GateRefused) as exc:
        check_call_allowed("received")
    assert exc.value.extra["gate"] == "service conditions"
