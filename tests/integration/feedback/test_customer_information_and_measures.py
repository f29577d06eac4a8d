"""S32 customer information over HTTP (routing, answer gate, notification) and the measures."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.integration.conftest import bearer
from tests.integration.feedback.conftest import CALL_TIME, agent, outbox, schedule_call, tool

pytestmark = pytest.mark.integration


async def test_a_lead_heard_on_a_call_goes_to_the_regional_centre_and_is_answered(env, app, client):
    call_id = await schedule_call(app, region="north")
    r = await client.post(f"/follow-up-calls/{call_id}/customer-information",
                          json={"agent": "agent-3", "kind": "business_lead", "text": "phase 2 needs two transformers"},
                          headers=tool(env, f"info-{uuid.uuid4()}"))
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["department"] == "regional_centre:north" and info["status"] == "routed"
    assert info["captured_by"] == "agent-3" and info["source"] == "call"
    assert await outbox(app, "CustomerInformationRouted", info_id=info["id"])

    listed = await client.get("/customer-information", params={"status": "routed",
                                                               "department": "regional_centre:north"},
                              headers=bearer(env, "regional_centre", "rc-north", region="north"))
    assert info["id"] in [i["id"] for i in listed.json()["items"]]

    other_region = bearer(env, "regional_centre", "rc-south", region="south")
    body = {"answer": "quotation sent"}
    assert (await client.post(f"/customer-information/{info['id']}/answer", json=body,
                              headers=other_region)).status_code == 404
    north = bearer(env, "regional_centre", "rc-north", region="north")
    gate = await client.post(f"/customer-information/{info['id']}/answer", json=body, headers=north)
    assert gate.status_code == 409
    assert gate.json()["missing_conditions"] == ["a recorded notification of the customer"]
    told = {**body, "customer_notification": {"channel": "phone", "notified_at": CALL_TIME.isoformat(),
                                               "text": "told the customer a quotation is on its way"}}
    stale = await client.post(f"/customer-information/{info['id']}/answer", json=told,
                              headers={**north, "If-Match": 'W/"7"'})
    assert stale.status_code == 412
    done = await client.post(f"/customer-information/{info['id']}/answer", json=told, headers=north)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "answered" and done.json()["notification_channel"] == "phone"
    answered = await outbox(app, "CustomerInformationAnswered", info_id=info["id"])
    assert answered and answered[0]["answer"] == "quotation sent"
    again = await client.post(f"/customer-information/{info['id']}/answer", json=told, headers=north)
    assert again.status_code == 409


async def test_opinions_go_to_the_service_department_whose_head_answers(env, app, client):
    call_id = await schedule_call(app)
    r = await client.post(f"/follow-up-calls/{call_id}/customer-information",
                          json={"kind": "opinion", "text": "more frequent progress reports please"},
                          headers=agent(env, "agent-4"))
    assert r.json()["department"] == "service_department"
    wrong_unit = bearer(env, "department_head", "h1", unit="technology_department")
    right_unit = bearer(env, "department_head", "h2", unit="service_department")
    told = {"answer": "weekly reports from now on", "customer_notification": {
        "channel": "email", "notified_at": CALL_TIME.isoformat(), "text": "we will report weekly"}}
    assert (await client.post(f"/customer-information/{r.json()['id']}/answer", json=told,
                              headers=wrong_unit)).status_code == 404
    assert (await client.post(f"/customer-information/{r.json()['id']}/answer", json=told,
                              headers=right_unit)).status_code == 200


async def test_measures_give_csat_nps_and_rates_by_engineer(env, app, client):
    region = f"m-{uuid.uuid4().hex[:6]}"
    a = agent(env, "m-1")
    scores = [(5, 10), (4, 9), (2, 3)]  # CSAT 2/3 satisfied; NPS (2 promoters - 1 detractor) / 3
    for csat, nps in scores:
        call_id = await schedule_call(app, region=region, engineer_ids=["eng-a", "eng-b"])
        await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a)
        await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "reached"}, headers=a)
        answers = [{"question_id": "overall", "value": csat}, {"question_id": "engineer", "value": csat},
                   {"question_id": "recommend", "value": nps}, {"question_id": "on_time", "value": "yes"}]
        r = await client.post(f"/follow-up-calls/{call_id}/survey-responses", json={"answers": answers}, headers=a)
        assert r.status_code == 201
        assert (await client.post(f"/follow-up-calls/{call_id}/outcome", json={"outcome": "reached"},
                                  headers=a)).status_code == 201
    unreachable = await schedule_call(app, region=region, engineer_ids=["eng-a"])
    await client.post(f"/follow-up-calls/{unreachable}/claim", json={}, headers=a)
    await client.post(f"/follow-up-calls/{unreachable}/attempts", json={"result": "wrong_number"}, headers=a)

    head = bearer(env, "department_head", "head-m")
    params = {"start": (CALL_TIME - timedelta(days=1)).isoformat(), "end": (CALL_TIME + timedelta(days=1)).isoformat(),
              "region": region}
    overall = (await client.get("/measures", params=params, headers=head)).json()["rows"]
    assert len(overall) == 1
    row = overall[0]
    assert row["calls_closed"] == 4 and row["responses"] == 3
    assert row["response_rate"] == 0.75 and row["unreachable_rate"] == 0.25
    assert row["csat_percent"] == 66.7 and row["nps"] == 33.3
    assert (row["promoters"], row["passives"], row["detractors"]) == (2, 0, 1)
    assert row["mean_hours_completion_to_call"] == 49.0  # Monday 10:00 -> Wednesday 11:00
    by_engineer = (await client.get("/measures", params={**params, "group_by": "engineer"}, headers=head)).json()
    rows = {r["group"]: r for r in by_engineer["rows"]}
    assert rows["eng-a"]["calls_closed"] == 4 and rows["eng-b"]["calls_closed"] == 3
    assert rows["eng-b"]["unreachable_rate"] == 0.0
    bad = await client.get("/measures", params={**params, "end": params["start"]}, headers=head)
    assert bad.status_code == 422
