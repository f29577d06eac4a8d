"""Insight (decision 0085): events of several cases reach dispatch's consumer, the read model follows,
GET /kpis and GET /conformance-report read it as JSON and CSV, scoped to the caller's region or cases."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.record.domain import SITE_TIMEZONE
from shared.events import EventPayload
from shared.events.feedback import FollowUpCallCompleted, SurveyAnswered
from shared.events.onsite import EngineerArrived, RepairRequested, ServiceCompleted, ThreeCallEntry
from tests.integration.conftest import bearer, wait_async
from tests.integration.dispatch.conftest import dispatch_flow, envelope, publish, unique

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
TODAY = NOW.astimezone(SITE_TIMEZONE).date()
PERIOD = {"period_from": (TODAY - timedelta(days=1)).isoformat(), "period_to": (TODAY + timedelta(days=1)).isoformat()}


@pytest.fixture(scope="module")
async def flow(env):
    async with dispatch_flow(env) as f:
        yield f


CALLS = [ThreeCallEntry(party=p, called_at=NOW - timedelta(hours=3 - i), outcome="reached")
         for i, p in enumerate(["account_manager", "customer_contact", "site_interface"])]


async def visit(env, case: dict, eng: str, *, arrived_at: datetime, findings: list[str], repair: bool = False,
                survey: bool = False) -> None:
    cid, v = case["id"], {"case_id": case["id"], "visit_id": uuid.uuid4()}
    onsite: list[EventPayload] = [
        EngineerArrived(**v, engineer_id=eng, arrived_at=arrived_at, calls=CALLS, compliance_findings=findings),
        ServiceCompleted(**v, completed_at=NOW, customer_name=case["customer_name"], region=case["region"],
                         equipment_type=case["equipment_type"], engineer_ids=[eng])]
    if repair:
        onsite.append(RepairRequested(**v, repair_request_id=uuid.uuid4(), receipt_number="R-1", equipment="CT",
                                      fault="insulation", customer_name=case["customer_name"]))
    feedback: list[EventPayload] = []
    if survey:
        call = uuid.uuid4()
        feedback = [FollowUpCallCompleted(case_id=cid, call_id=call, outcome="reached", attempts=1),
                    SurveyAnswered(response_id=uuid.uuid4(), case_id=cid, call_id=call, questionnaire_id="q",
                                   questionnaire_version=1, csat=5, nps=10, channel="call")]
    await publish(env, *[("onsite", envelope("onsite", p, cid, eng)) for p in onsite],
                  *[("feedback", envelope("feedback", p, cid, "agent-1")) for p in feedback])


def kpis_of(body: dict) -> dict[str, dict[str, dict]]:
    return {g["group"]: {k["kpi"]: k for k in g["kpis"]} for g in body["groups"]}


async def test_kpis_and_conformance_report_from_events_json_csv_and_scoped(flow, env):
    east, west = unique("east"), unique("west")
    on_time = await flow.new_case(region=east)
    late = await flow.new_case(region=east)
    elsewhere = await flow.new_case(region=west)
    for case in (on_time, late):  # S2: arrival agreed in two days
        assert (await flow.confirm_conditions(case["id"], arrival_days=2)).status_code == 201
    e1, e2, e3 = unique("eng"), unique("eng"), unique("eng")
    await visit(env, on_time, e1, arrived_at=NOW, findings=[], survey=True)
    await visit(env, late, e2, arrived_at=NOW + timedelta(days=3), findings=["S8: no call to the site interface"],
                repair=True)
    await visit(env, elsewhere, e3, arrived_at=NOW, findings=[])

    async def east_kpis():
        r = await flow.c.get("/kpis", headers=flow.head, params={**PERIOD, "region": east, "group_by": "region"})
        assert r.status_code == 200, r.text
        group = kpis_of(r.json()).get(east)
        ready = (group and group["on_time_arrival"]["denominator"] == 2
                 and group["first_visit_completion"]["denominator"] == 2 and group["response_rate"]["denominator"])
        return group if ready else None

    group = await wait_async("the read model to count both east cases", east_kpis, timeout=30)
    assert group["on_time_arrival"] == {"kpi": "on_time_arrival", "steps": "S8/S2/S7", "unit": "share",
                                        "numerator": 1.0, "denominator": 2, "value": 0.5}
    assert (group["three_call_compliance"]["numerator"], group["three_call_compliance"]["denominator"]) == (1, 2)
    assert group["first_visit_completion"]["value"] == 0.5  # the repair breaks the late case's first visit
    assert group["response_rate"]["value"] == 1.0 and group["csat"]["value"] == 1.0 and group["nps"]["value"] == 100
    assert group["conformance_rate"]["denominator"] == 0  # no case closed yet: none judged

    by_engineer = (await flow.c.get("/kpis", headers=flow.d,
                                    params={**PERIOD, "region": east, "group_by": "engineer"})).json()
    assert set(kpis_of(by_engineer)) == {e1, e2}
    assert kpis_of(by_engineer)[e2]["on_time_arrival"]["value"] == 0.0

    # CSV: by ?format=csv and by Accept
    r = await flow.c.get("/kpis", headers=flow.d, params={**PERIOD, "region": east, "group_by": "engineer",
                                                          "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {(row["group"], row["kpi"], row["numerator"], row["denominator"]) for row in rows
            if row["kpi"] == "on_time_arrival"} == {(e1, "on_time_arrival", "1.0", "1"),
                                                   (e2, "on_time_arrival", "0.0", "1")}

    # the conformance report: cases x steps, keyset pages, a link to each case's conformance
    async def report_page(headers, **params):
        r = await flow.c.get("/conformance-report", headers=headers, params={**PERIOD, **params})
        assert r.status_code == 200, r.text
        return r.json()

    first = await report_page(flow.d, region=east, limit=1)
    second = await report_page(flow.d, region=east, limit=1, cursor=first["next_cursor"])
    ids = [first["items"][0]["case_id"], second["items"][0]["case_id"]]
    assert ids == [late["id"], on_time["id"]]  # newest first
    assert second["next_cursor"] is None  # the region's last case: no cursor to an empty page
    row = first["items"][0]
    assert set(row["steps"]) == {f"S{n}" for n in range(1, 35)}
    assert row["steps"]["S30"] == {"status": "done", "findings": 0}
    assert row["steps"]["S8"]["findings"] == 1 and row["conformance"] == f"/cases/{late['id']}/conformance"
    assert row["engineers"] == [e2] and row["missing"] > 0
    r = await flow.c.get("/conformance-report", headers={**flow.d, "Accept": "text/csv"},
                         params={**PERIOD, "region": east})
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert {t["case_id"] for t in table} == {on_time["id"], late["id"]}
    assert next(t for t in table if t["case_id"] == late["id"])["S8"] == "done (1)"

    # a regional centre reads its own region only; an engineer only their own cases
    centre = bearer(env, "regional_centre", "rc-east", region=east)
    mine = await report_page(centre)
    assert {i["region"] for i in mine["items"]} == {east} and len(mine["items"]) == 2
    assert (await report_page(centre, region=west))["items"] == []
    r = await flow.c.get("/kpis", headers=centre, params={**PERIOD, "group_by": "region"})
    assert set(kpis_of(r.json())) == {east}
    assert (await flow.c.get("/kpis", headers=centre, params={"region": west})).json()["groups"] == []

    engineer = bearer(env, "engineer", e1)
    own = await report_page(engineer)
    assert [i["case_id"] for i in own["items"]] == [on_time["id"]]
    r = await flow.c.get("/kpis", headers=engineer, params={**PERIOD, "group_by": "engineer"})
    assert set(kpis_of(r.json())) == {e1}

    # the west case is there for national roles
    west_report = await report_page(flow.head, region=west)
    assert [i["case_id"] for i in west_report["items"]] == [elsewhere["id"]]

    # the current month's KPIs by region on /metrics (the Grafana KPI dashboard), with the count behind each
    metrics = (await flow.c.get("/metrics")).text
    assert f'kpi_denominator{{kpi="on_time_arrival",region="{east}",service="dispatch"}} 2.0' in metrics
    assert f'kpi_value{{kpi="on_time_arrival",region="{east}",service="dispatch"}} 0.5' in metrics
    assert "insight_read_model_lag_seconds_bucket" in metrics
