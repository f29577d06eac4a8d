"""Consequences of the standard in dispatch (issue 13, items 5 and 6): one refusal shape, required text never
blank, S6 items from the plan and S2, S22-S24 answers from the routed unit, S24 escalation."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.dispatch.routing import service as routing
from shared.db import transaction
from shared.events import EventEnvelope
from shared.events.onsite import InternalDisagreementRaised, RaisedItem, ReferralRaised
from tests.integration.conftest import bearer, events_of, refused_gate
from tests.integration.dispatch.conftest import PLAN, TEMPLATE, dispatch_flow, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def flow(env):
    async with dispatch_flow(env, consumer_enabled=False) as f:
        yield f


async def test_s2_before_acknowledgement_is_a_refused_gate_then_succeeds(flow):
    case = await flow.new_case(acknowledge=False)
    assert refused_gate(await flow.confirm_conditions(case["id"]), "service conditions") == [
        "S1: the request is not acknowledged (the case is received)"]
    assert (await flow.c.post(f"/cases/{case['id']}/acknowledge", headers=flow.d)).status_code == 200
    assert (await flow.confirm_conditions(case["id"])).status_code == 201
    again = await flow.c.post(f"/cases/{case['id']}/acknowledge", headers=flow.d)
    assert refused_gate(again, "case status") == ["S1: a case that is acknowledged cannot become acknowledged"]


async def test_required_text_that_is_only_blanks_is_refused_naming_the_field(flow):
    case = await flow.new_case()
    now = datetime.now(UTC)
    r = await flow.c.post(f"/cases/{case['id']}/condition-calls", headers=flow.d, json={
        "outcome": "postponed", "called_at": now.isoformat(), "reason": "   ",
        "new_date": (now + timedelta(days=3)).date().isoformat()})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["body.reason"]
    r = await flow.c.post(f"/cases/{case['id']}/condition-calls", headers=flow.d, json={
        "outcome": "postponed", "called_at": now.isoformat(), "reason": "site not ready",
        "new_date": (now + timedelta(days=3)).date().isoformat()})
    assert r.status_code == 201, r.text


async def live_hv_template(flow, equipment_type: str) -> None:
    body = {**TEMPLATE, "template_id": unique("live-work"), "equipment_type": equipment_type,
            "items": [{"item_id": "live-1", "text": "Live-line clamp fitted", "kind": "yes_no", "live_hv": True}]}
    r = await flow.c.post("/specification-templates", headers=flow.d, json=body)
    assert r.status_code == 201, r.text


async def test_live_hv_work_needs_the_live_work_certificate_under_the_default_policy(flow):
    equipment = unique("GIS-live")
    licensed = await flow.engineer(grade=4, equipment_type=equipment)
    unlicensed = await flow.engineer(grade=4, equipment_type=equipment, certificates=[
        {"type": "crane", "number": "C-1", "expires_on": (date.today() + timedelta(days=400)).isoformat()}])
    case = await flow.new_case(equipment={"type": equipment, "model": "ZF11-126", "quantity": 1},
                               urgency="low", difficulty="low", customer_importance="low")
    assert (await flow.confirm_conditions(case["id"])).status_code == 201
    # staffed before the pack: the dispatch gate still checks the live-work certificate
    assert (await flow.assign(case["id"], [unlicensed])).status_code == 200
    await live_hv_template(flow, equipment)
    assert (await flow.c.post(f"/cases/{case['id']}/specification-pack", headers=flow.d,
                              json={})).status_code == 201
    ready = (await flow.c.get(f"/cases/{case['id']}/dispatch-readiness", headers=flow.d)).json()
    assert (f"S3: engineer {unlicensed} has no hv_live_work certificate (the pack holds live-HV work)"
            in ready["missing_conditions"])
    r = await flow.assign(case["id"], [unlicensed])
    assert f"S3: engineer {unlicensed} has no hv_live_work certificate" in refused_gate(r, "assignment")
    assert (await flow.assign(case["id"], [licensed])).status_code == 200
    ready = (await flow.c.get(f"/cases/{case['id']}/dispatch-readiness", headers=flow.d)).json()
    assert not [m for m in ready["missing_conditions"] if "hv_live_work" in m]


async def test_s6_items_come_from_the_plan_and_s2_and_the_team_ticks_its_own(flow, env):
    case, engineers = await flow.ready_case()
    cid = case["id"]
    plan = (await flow.c.get(f"/cases/{cid}/plans", headers=flow.d)).json()
    newest = plan[-1] if isinstance(plan, list) else plan["items"][-1]
    r = await flow.c.post(f"/cases/{cid}/plans", headers=flow.d, json={
        **PLAN, "preparation_items": ["Torque wrench 400 Nm", "  tools  "], "report_period_days": 3})
    assert r.status_code == 201, r.text
    assert newest["id"] != r.json()["id"]
    items = (await flow.c.get(f"/cases/{cid}/preparation", headers=flow.d)).json()["items"]
    by_label = {i["label"]: i for i in items}
    assert [i["source"] for i in items[:6]] == ["standard"] * 6 and by_label["Tools"]["done"] is True
    assert by_label["Torque wrench 400 Nm"]["source"] == "plan" and not by_label["Torque wrench 400 Nm"]["done"]
    assert by_label["SF6 gas"]["source"] == "s2" and by_label["SF6 gas"]["done"] is True
    assert "tools" not in by_label  # the S2 'tools' and the plan's are the standard's Tools
    wrench = by_label["Torque wrench 400 Nm"]["key"]
    refused = refused_gate(await flow.c.post(f"/cases/{cid}/dispatch", headers=flow.d), "dispatch")
    assert any(wrench in m for m in refused if m.startswith("S6:"))
    outsider = bearer(env, "engineer", "eng-outsider")
    path = f"/cases/{cid}/preparation/items/{wrench}"
    assert (await flow.c.put(path, headers=outsider, json={"done": True})).status_code == 403
    r = await flow.c.put(path, headers=bearer(env, "engineer", engineers[1]), json={"done": True, "note": "packed"})
    assert r.status_code == 200, r.text
    ticked = next(i for i in r.json()["items"] if i["key"] == wrench)
    assert ticked["ticked_by"] == engineers[1] and r.json()["complete"] is True


async def registered(flow, kind: str, **subject) -> tuple[str, str]:
    case = await flow.new_case()
    item = uuid.uuid4()
    payload: RaisedItem
    common = dict(case_id=uuid.UUID(case["id"]), visit_id=uuid.uuid4(), item_id=item, raised_by="eng-1",
                  summary="raised on site")
    if kind == "referral":
        payload = ReferralRaised(**common, product="transformers")
    else:
        payload = InternalDisagreementRaised(**common, units=["GIS works", "transformer works"])
    envelope = EventEnvelope.wrap(payload, source="/fieldservice/onsite", subject=case["id"], actor="eng-1")
    async with transaction(flow.app.state.sessions) as session:
        await routing.register(session=session, envelope=envelope, item=payload, kind=kind)
    r = await flow.c.post(f"/routed-items/{item}/assignment", headers=flow.d, json={"unit": "gis-works"})
    assert r.status_code == 200, r.text
    return case["id"], str(item)


async def test_s22_s24_answers_come_from_the_routed_unit_or_on_its_behalf(flow, env):
    _, item = await registered(flow, "referral")
    other = bearer(env, "department_head", "head-9", unit="transformer-works")
    r = await flow.c.post(f"/routed-items/{item}/answer", headers=other, json={"answer": "not ours"})
    assert r.status_code == 403
    own = bearer(env, "department_head", "head-2", unit="gis-works")
    r = await flow.c.post(f"/routed-items/{item}/answer", headers=own, json={"answer": "sales will call"})
    assert r.status_code == 200 and r.json()["answered_on_behalf"] is False
    cid2, item2 = await registered(flow, "referral")
    r = await flow.c.post(f"/routed-items/{item2}/answer", headers=flow.d, json={"answer": "per phone with GIS"})
    assert r.status_code == 200 and r.json()["answered_on_behalf"] is True and r.json()["answered_by"] == "disp-1"
    answered = await events_of(flow.app, cid2, "RoutedItemAnswered")
    assert answered[0]["on_behalf"] is True and answered[0]["unit"] == "gis-works"


async def test_s24_an_unresolved_disagreement_escalates_to_the_department_heads(flow, env):
    cid, item = await registered(flow, "referral")
    r = await flow.c.post(f"/routed-items/{item}/mediation", headers=flow.d,
                          json={"mediation": "talked", "resolved": False})
    assert refused_gate(r, "mediation") == ["S24: only an internal disagreement is mediated"]
    cid, item = await registered(flow, "internal_disagreement")
    r = await flow.c.post(f"/routed-items/{item}/mediation", headers=flow.d,
                          json={"mediation": "  ", "resolved": False})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.mediation"
    r = await flow.c.post(f"/routed-items/{item}/mediation", headers=flow.d,
                          json={"mediation": "GIS and transformer works disagree on who supplies the bushing",
                                "resolved": False})
    assert r.status_code == 200 and r.json()["status"] == "escalated" and r.json()["mediated_by"] == "disp-1"
    escalated = await events_of(flow.app, cid, "InternalDisagreementEscalated")
    assert escalated[0]["escalated_to"] == "department_heads" and escalated[0]["mediation"].startswith("GIS and")
    head = bearer(env, "department_head", "head-5", unit="quality")
    r = await flow.c.post(f"/routed-items/{item}/answer", headers=head, json={"answer": "transformer works supplies"})
    assert r.status_code == 200 and r.json()["status"] == "answered" and r.json()["answered_by"] == "head-5"
