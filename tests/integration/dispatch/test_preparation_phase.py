"""S2-S7 over HTTP against the real database and broker: each gate's refusal and success."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from services.dispatch.periodic import postponement_check
from tests.integration.conftest import read_topic
from tests.integration.dispatch.conftest import dispatch_flow, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def flow(env):
    async with dispatch_flow(env, consumer_enabled=False) as f:
        yield f


def events_of(messages, case_id: str, event_type: str) -> list[dict]:
    found = []
    for m in messages:
        body = json.loads(m.value)
        if body["subject"] == case_id and body["type"] == event_type:
            found.append(body)
    return found


async def test_s2_confirmed_conditions_are_recorded_on_the_case(flow):
    case = await flow.new_case()
    r = await flow.confirm_conditions(case["id"])
    assert r.status_code == 201, r.text
    assert r.json()["details"]["special_requirements"]["local_government"] == "work permit from the district"
    got = (await flow.c.get(f"/cases/{case['id']}", headers=flow.d)).json()
    assert got["site_address"] == "88 Xinhua Road, Wuxi" and got["conditions_confirmed_at"] is not None
    calls = (await flow.c.get(f"/cases/{case['id']}/condition-calls", headers=flow.d)).json()
    assert [c["outcome"] for c in calls] == ["confirmed"]


async def test_s2_bad_input_names_the_field(flow):
    case = await flow.new_case()
    now = datetime.now(UTC)
    r = await flow.c.post(f"/cases/{case['id']}/condition-calls", headers=flow.d, json={
        "outcome": "postponed", "called_at": now.isoformat(), "reason": "site not ready",
        "new_date": (date.today() - timedelta(days=2)).isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.new_date"
    r = await flow.c.post(f"/cases/{case['id']}/condition-calls", headers=flow.d, json={
        "outcome": "maybe", "called_at": now.isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.outcome"


async def test_s2_postponement_comes_due_once_and_a_new_call_settles_it(flow, env):
    case = await flow.new_case()
    today = datetime.now(UTC).date()
    r = await flow.c.post(f"/cases/{case['id']}/condition-calls", headers=flow.d, json={
        "outcome": "postponed", "called_at": datetime.now(UTC).isoformat(), "reason": "foundations not cured",
        "new_date": (today + timedelta(days=3)).isoformat()})
    assert r.status_code == 201, r.text

    async def due_ids(on: date) -> set[str]:
        r = await flow.c.get("/postponements/due", headers=flow.d, params={"on": on.isoformat()})
        return {p["case_id"] for p in r.json()}

    assert case["id"] not in await due_ids(today)
    assert case["id"] in await due_ids(today + timedelta(days=3))

    later = datetime.combine(today + timedelta(days=4), datetime.min.time(), tzinfo=UTC)
    job = postponement_check(clock=lambda: later)  # the clock is injected: four days from now
    await job(flow.app.state.runtime)
    await job(flow.app.state.runtime)  # running again announces nothing new
    messages = await read_topic(env, "dispatch.events",
                                stop_when=lambda ms: events_of(ms, case["id"], "PostponementDue"))
    due = events_of(messages, case["id"], "PostponementDue")
    assert len(due) == 1 and due[0]["data"]["postponed_until"] == (today + timedelta(days=3)).isoformat()

    assert (await flow.confirm_conditions(case["id"])).status_code == 201
    assert case["id"] not in await due_ids(today + timedelta(days=4))


async def test_engineers_roster_crud_validation_and_412(flow):
    eid = await flow.engineer(grade=3, equipment_type="transformer-220kV")
    r = await flow.c.get(f"/engineers/{eid}", headers=flow.d)
    assert r.status_code == 200 and r.json()["skills"] == [{"equipment_type": "transformer-220kV", "level": 3}]
    etag = r.headers["etag"]
    body = {k: r.json()[k] for k in ("name", "grade", "home_region", "skills", "certificates", "unavailability")}
    assert (await flow.c.put(f"/engineers/{eid}", headers={**flow.d, "If-Match": etag},
                             json={**body, "grade": 4})).status_code == 200
    stale = await flow.c.put(f"/engineers/{eid}", headers={**flow.d2, "If-Match": etag}, json={**body, "grade": 5})
    assert stale.status_code == 412
    assert (await flow.c.get(f"/engineers/{eid}", headers=flow.d)).json()["grade"] == 4

    bad = await flow.c.post("/engineers", headers=flow.d, json={
        "id": unique("eng"), "name": "X", "grade": 6, "home_region": "east",
        "certificates": [{"type": "hv", "number": "1", "expires_on": "not-a-date"}],
        "unavailability": [{"start": "2026-12-02T08:00:00Z", "end": "2026-12-01T08:00:00Z", "reason": "leave"}]})
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"body.grade", "body.certificates.0.expires_on", "body.unavailability.0.end"} <= fields
    duplicate = await flow.c.post("/engineers", headers=flow.d, json={"id": eid, **body})
    assert duplicate.status_code == 409
    listed = (await flow.c.get("/engineers", headers=flow.d, params={"equipment_type": "transformer-220kV"})).json()
    assert eid in {e["id"] for e in listed["items"]}
    assert (await flow.c.get("/engineers", headers=bearer_engineer(flow))).status_code == 403


def bearer_engineer(flow):
    from tests.integration.conftest import bearer

    return bearer(flow.env, "engineer", "eng-x")


async def test_staffing_policy_is_versioned_and_edited_with_if_match(flow):
    r = await flow.c.get("/staffing-policy", headers=flow.d)
    assert r.status_code == 200
    current = r.json()
    equipment = unique("XFMR")
    rules = [{**rule, "min_grade": 2 if rule["urgency"] == "low" and rule["difficulty"] == "low"
              and rule["customer_importance"] == "low" else rule["min_grade"]} for rule in current["rules"]]
    body = {"rules": rules, "note": "low-low-low needs grade 2",
            "required_certificates": [{"equipment_type": equipment, "certificate_type": "hv_live_work"}]}
    r1 = await flow.c.put("/staffing-policy", headers={**flow.d, "If-Match": r.headers["etag"]}, json=body)
    assert r1.status_code == 200, r1.text
    assert r1.json()["version"] == current["version"] + 1
    stale = await flow.c.put("/staffing-policy", headers={**flow.d2, "If-Match": r.headers["etag"]}, json=body)
    assert stale.status_code == 412
    old = await flow.c.get(f"/staffing-policy/versions/{current['version']}", headers=flow.d)
    assert old.json()["version"] == current["version"]
    dup = await flow.c.put("/staffing-policy", headers=flow.d, json={"rules": [rules[0], rules[0]]})
    assert dup.status_code == 422 and dup.json()["errors"][0]["field"] == "body.rules"
    bad = await flow.c.put("/staffing-policy", headers=flow.d, json={"rules": [{**rules[0], "min_grade": 0}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.rules.0.min_grade"

    # the stored rule applies: a low/low/low case refuses a grade-1 engineer
    case = await flow.new_case(urgency="low", difficulty="low", customer_importance="low")
    junior = await flow.engineer(grade=1)
    r = await flow.assign(case["id"], [junior])
    assert r.status_code == 409 and "below the minimum grade 2" in r.text
    # and the certificate requirement of that equipment type
    case = await flow.new_case(equipment={"type": equipment, "quantity": 1}, urgency="low", difficulty="low",
                               customer_importance="low")
    unlicensed = await flow.engineer(grade=3, certificates=[{"type": "crane", "number": "C-1",
                                                             "expires_on": "2030-01-01"}])
    r = await flow.assign(case["id"], [unlicensed])
    assert r.status_code == 409 and f"{unlicensed} has no hv_live_work certificate" in r.text


async def test_s3_assignment_refusal_names_every_failing_rule_then_succeeds(flow, env):
    case = await flow.new_case()  # high urgency, medium difficulty, high importance: grade 3, two engineers
    other = await flow.new_case()
    busy = await flow.engineer(grade=4)
    assert (await flow.assign(other["id"], [busy, await flow.engineer()])).status_code == 200
    soon = date.today() + timedelta(days=3)
    expired = await flow.engineer(certificates=[{"type": "hv_live_work", "number": "1",
                                                 "expires_on": soon.isoformat()}])
    junior = await flow.engineer(grade=2)
    on_leave = await flow.engineer(unavailability=[{
        "start": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "end": (datetime.now(UTC) + timedelta(days=4)).isoformat(), "reason": "annual leave"}])
    r = await flow.assign(case["id"], [junior, busy, on_leave, "nobody-" + unique("x")], pm=9)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["gate"] == "assignment"
    text = "\n".join(problem["missing_conditions"])
    assert f"{junior} has grade 2, below the minimum grade 3" in text
    assert f"{busy} is double-booked" in text and other["crm_reference"] in text
    assert f"{on_leave} is double-booked in the planned window (annual leave)" in text
    assert "is not on the roster" in text and "exactly one project manager (has 0)" in text
    single = await flow.assign(case["id"], [await flow.engineer()])
    assert single.status_code == 409 and "head count 1 is below the required 2" in single.text
    # a required certificate must stay valid until the planned end (the policy asks for it on the
    # GIS-126kV type only in the test above's own equipment type, so require it through a check here)
    r = await flow.assign(case["id"], [expired, await flow.engineer(grade=3)])
    assert r.status_code == 200, r.text
    team = r.json()["team"]
    assert [m["is_project_manager"] for m in team] == [True, False]
    messages = await read_topic(env, "dispatch.events",
                                stop_when=lambda ms: events_of(ms, case["id"], "EngineersAssigned"))
    assigned = events_of(messages, case["id"], "EngineersAssigned")[0]["data"]
    assert assigned["project_manager_id"] == expired and assigned["policy_version"] is not None


async def test_s4_plan_is_approved_by_someone_else_and_versioned(flow):
    from tests.integration.dispatch.conftest import PLAN

    case = await flow.new_case()
    r = await flow.c.post(f"/cases/{case['id']}/plans", headers=flow.d, json=PLAN)
    plan, etag = r.json(), r.headers["etag"]
    assert plan["status"] == "draft" and plan["revision"] == 1
    early = await flow.c.post(f"/plans/{plan['id']}/approve", headers=flow.head)
    assert early.status_code == 409 and "only a submitted plan" in early.text
    r = await flow.c.post(f"/plans/{plan['id']}/submit", headers={**flow.d, "If-Match": etag})
    assert r.status_code == 200
    stale = await flow.c.put(f"/plans/{plan['id']}", headers={**flow.d, "If-Match": etag}, json=PLAN)
    assert stale.status_code == 412
    own = await flow.c.post(f"/plans/{plan['id']}/approve", headers=flow.d)
    assert own.status_code == 409 and "must not be the plan's author" in own.text
    ok = await flow.c.post(f"/plans/{plan['id']}/approve", headers=flow.head)
    assert ok.status_code == 200 and ok.json()["approved_by"] == "head-1"
    second = (await flow.c.post(f"/cases/{case['id']}/plans", headers=flow.d, json=PLAN)).json()
    assert second["revision"] == 2
    bad = await flow.c.post(f"/cases/{case['id']}/plans", headers=flow.d, json={**PLAN, "status": "approved"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.status"


async def test_s5_templates_are_versioned_and_packs_use_the_newest(flow):
    equipment = unique("GIS")
    template = await flow.template(equipment)
    tid = template["template_id"]
    r = await flow.c.get(f"/specification-templates/{tid}", headers=flow.d)
    content = {k: r.json()[k] for k in ("kind", "title", "equipment_type", "difficulty", "items")}
    content["items"] = [*content["items"], {"item_id": "earth", "text": "Earthing resistance", "kind": "value",
                                            "unit": "ohm", "upper_limit": 0.5}]
    v2 = await flow.c.post(f"/specification-templates/{tid}/versions",
                           headers={**flow.d, "If-Match": r.headers["etag"]},
                           json={**content, "revision_note": "earthing check"})
    assert v2.status_code == 201 and v2.json()["version"] == 2
    stale = await flow.c.post(f"/specification-templates/{tid}/versions",
                              headers={**flow.d, "If-Match": r.headers["etag"]}, json=content)
    assert stale.status_code == 412
    v1 = (await flow.c.get(f"/specification-templates/{tid}/versions/1", headers=flow.d)).json()
    assert len(v1["items"]) == 4

    case = await flow.new_case(equipment={"type": equipment, "quantity": 1})
    r = await flow.c.post(f"/cases/{case['id']}/specification-pack", headers=flow.d, json={})
    assert r.status_code == 201, r.text
    assert r.json()["templates"] == [f"{tid}@2"]
    items = r.json()["sheets"][0]["items"]
    assert items[0]["unit"] == "MPa" and items[1]["requires_witness"] and items[3]["requires_photo"]
    none = await flow.new_case(equipment={"type": unique("unknown"), "quantity": 1})
    r = await flow.c.post(f"/cases/{none['id']}/specification-pack", headers=flow.d, json={})
    assert r.status_code == 409 and "no template exists" in r.text
    bad_item = await flow.c.post("/specification-templates", headers=flow.d, json={
        "template_id": unique("t"), "kind": "check_sheet", "title": "t", "equipment_type": "x",
        "items": [{"item_id": "v", "text": "value without unit", "kind": "value"}]})
    assert bad_item.status_code == 422 and bad_item.json()["errors"][0]["field"] == "body.items.0.unit"


async def test_s6_preparation_records_who_ticked_what(flow):
    case = await flow.new_case()
    r = await flow.c.get(f"/cases/{case['id']}/preparation", headers=flow.d)
    assert r.json()["complete"] is False and r.headers["etag"] == 'W/"0"'
    first = await flow.c.put(f"/cases/{case['id']}/preparation/items/tools", headers={**flow.d, "If-Match": 'W/"0"'},
                             json={"done": True})
    assert first.status_code == 200
    stale = await flow.c.put(f"/cases/{case['id']}/preparation/items/materials",
                             headers={**flow.d2, "If-Match": 'W/"0"'}, json={"done": True})
    assert stale.status_code == 412
    unknown = await flow.c.put(f"/cases/{case['id']}/preparation/items/coffee", headers=flow.d, json={"done": True})
    assert unknown.status_code == 422
    done = await flow.prepare(case["id"])
    assert done["complete"] and done["completed_by"] == "disp-1"
    assert all(i["ticked_by"] == "disp-1" and i["ticked_at"] for i in done["items"])


async def test_dispatch_gate_lists_every_missing_condition_then_dispatches_what_onsite_needs(flow, env):
    case = await flow.new_case()
    r = await flow.c.post(f"/cases/{case['id']}/dispatch", headers=flow.d)
    assert r.status_code == 409
    missing = r.json()["missing_conditions"]
    assert [m.split(":")[0] for m in missing] == ["S2", "S3", "S4", "S5", "S6"]
    readiness = (await flow.c.get(f"/cases/{case['id']}/dispatch-readiness", headers=flow.d)).json()
    assert readiness == {"ready": False, "missing_conditions": missing}

    case, engineers = await flow.ready_case()
    read = await flow.c.get(f"/cases/{case['id']}", headers=flow.d)
    r = await flow.c.post(f"/cases/{case['id']}/dispatch", headers={**flow.d, "If-Match": read.headers["etag"]},
                          json={"note": "go"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dispatched" and r.json()["dispatched_by"] == "disp-1"
    again = await flow.c.post(f"/cases/{case['id']}/dispatch", headers={**flow.d2, "If-Match": read.headers["etag"]})
    assert again.status_code == 412
    messages = await read_topic(env, "dispatch.events",
                                stop_when=lambda ms: events_of(ms, case["id"], "ServiceDispatched"))
    sent = events_of(messages, case["id"], "ServiceDispatched")[0]["data"]
    assert [m["engineer_id"] for m in sent["team"]] == engineers and sent["project_manager_id"] == engineers[0]
    assert sent["contacts"]["site_interface"]["name"] == "Wang Fang"
    assert sent["plan"]["version"] == 1 and len(sent["plan"]["steps"]) == 3 and sent["plan"]["risk_measures"]
    items = sent["check_sheets"][0]["items"]
    assert items[0] == {**items[0], "kind": "value", "unit": "MPa", "lower_limit": 0.55, "upper_limit": 0.65}
    assert items[1]["requires_witness"] and items[1]["primary_test"]
    assert sent["customer_deadline"] and sent["planned_start"] and sent["site_address"] == "88 Xinhua Road, Wuxi"


async def test_two_dispatchers_editing_the_same_case_the_second_gets_412(flow):
    case = await flow.new_case()
    etag = (await flow.c.get(f"/cases/{case['id']}", headers=flow.d)).headers["etag"]
    first = await flow.confirm_conditions(case["id"])
    assert first.status_code == 201
    engineers = [await flow.engineer(), await flow.engineer()]
    now = datetime.now(UTC)
    second = await flow.c.post(f"/cases/{case['id']}/assignment", headers={**flow.d2, "If-Match": etag}, json={
        "engineers": [{"engineer_id": e, "is_project_manager": i == 0} for i, e in enumerate(engineers)],
        "planned_start": (now + timedelta(days=1)).isoformat(), "planned_end": (now + timedelta(days=2)).isoformat()})
    assert second.status_code == 412 and second.json()["current_etag"] != etag


async def test_s7_reschedule_needs_both_notifications(flow, env):
    case, _ = await flow.ready_case()
    assert (await flow.c.post(f"/cases/{case['id']}/dispatch", headers=flow.d)).status_code == 200
    now = datetime.now(UTC)
    body = {"new_arrival": (now + timedelta(days=3)).isoformat(), "reason": "flight cancelled",
            "customer_notified_at": now.isoformat(), "regional_centre_notified_at": None}
    r = await flow.c.post(f"/cases/{case['id']}/arrival-reschedules", headers=flow.d, json=body)
    assert r.status_code == 409 and r.json()["missing_conditions"] == [
        "S7: the regional service centre's notification is not recorded"]
    past = await flow.c.post(f"/cases/{case['id']}/arrival-reschedules", headers=flow.d,
                             json={**body, "new_arrival": (now - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "body.new_arrival"
    body["regional_centre_notified_at"] = now.isoformat()
    r = await flow.c.post(f"/cases/{case['id']}/arrival-reschedules", headers=flow.d, json=body)
    assert r.status_code == 200 and r.json()["planned_start"].startswith((now + timedelta(days=3)).date().isoformat())
    messages = await read_topic(env, "dispatch.events",
                                stop_when=lambda ms: events_of(ms, case["id"], "ArrivalRescheduled"))
    event = events_of(messages, case["id"], "ArrivalRescheduled")[0]["data"]
    assert event["reason"] == "flight cancelled" and event["regional_centre_notified_at"]


async def test_concurrent_assignments_of_one_engineer_cannot_both_win(flow):
    import asyncio

    first, second = await flow.new_case(), await flow.new_case()
    shared, a, b = await flow.engineer(), await flow.engineer(), await flow.engineer()
    results = await asyncio.gather(flow.assign(first["id"], [shared, a]), flow.assign(second["id"], [shared, b]))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    refused = next(r for r in results if r.status_code == 409)
    assert f"{shared} is double-booked" in refused.text


async def test_cases_are_searched_by_customer_dates_engineer_and_status(flow):
    customer = unique("Anhui Power")
    case = await flow.new_case(customer_name=customer)
    await flow.new_case(customer_name=customer, acknowledge=False)
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    found = (await flow.c.get("/cases", headers=flow.d, params={"customer": customer[-8:].lower()})).json()["items"]
    assert len(found) == 2
    found = (await flow.c.get("/cases", headers=flow.d, params={"customer": customer, "status": "acknowledged",
                                                                "created_from": since})).json()["items"]
    assert [c["id"] for c in found] == [case["id"]]
    engineers = [await flow.engineer(), await flow.engineer()]
    assert (await flow.assign(case["id"], engineers, days=(30, 33))).status_code == 200
    planned = (await flow.c.get("/cases", headers=flow.d, params={
        "engineer": engineers[1], "planned_from": (datetime.now(UTC) + timedelta(days=31)).isoformat(),
        "planned_to": (datetime.now(UTC) + timedelta(days=32)).isoformat()})).json()["items"]
    assert [c["id"] for c in planned] == [case["id"]]
    none = (await flow.c.get("/cases", headers=flow.d, params={
        "engineer": engineers[1], "planned_from": (datetime.now(UTC) + timedelta(days=40)).isoformat()})).json()
    assert none["items"] == []
    bad = await flow.c.get("/cases", headers=flow.d, params={"created_from": "yesterday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.created_from"


async def test_engineers_see_only_the_cases_whose_team_lists_them(flow):
    from tests.integration.conftest import bearer

    case = await flow.new_case()
    engineers = [await flow.engineer(), await flow.engineer()]
    assert (await flow.assign(case["id"], engineers, days=(60, 62))).status_code == 200
    member, stranger = bearer(flow.env, "engineer", engineers[1]), bearer(flow.env, "engineer", "eng-stranger")
    assert (await flow.c.get(f"/cases/{case['id']}", headers=member)).status_code == 200
    assert (await flow.c.get(f"/cases/{case['id']}/conformance", headers=member)).status_code == 200
    for path in ("", "/timeline", "/conformance"):
        r = await flow.c.get(f"/cases/{case['id']}{path}", headers=stranger)
        assert r.status_code == 404, path
    mine = (await flow.c.get("/cases", headers=member, params={"engineer": "someone-else"})).json()["items"]
    assert [c["id"] for c in mine] == [case["id"]]
    assert (await flow.c.get("/cases", headers=stranger)).json()["items"] == []
    assert (await flow.c.post(f"/cases/{case['id']}/dispatch", headers=member)).status_code == 403
    # staffed again without them: the case leaves their list and the search by their id
    newcomer = await flow.engineer()
    assert (await flow.assign(case["id"], [engineers[0], newcomer], days=(60, 62))).status_code == 200
    assert (await flow.c.get("/cases", headers=member)).json()["items"] == []
    assert (await flow.c.get("/cases", headers=flow.d, params={"engineer": engineers[1]})).json()["items"] == []
    found = (await flow.c.get("/cases", headers=flow.d, params={"engineer": newcomer})).json()["items"]
    assert [c["id"] for c in found] == [case["id"]]
