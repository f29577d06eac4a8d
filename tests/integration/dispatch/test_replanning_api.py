"""Replanning over HTTP: a repair after leave applied through the S3 gate (a swap), a moved arrival through
S7's, an urgent case fitted, and S2 arrival windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.integration.conftest import bearer
from tests.integration.dispatch.conftest import DispatchFlow, dispatch_flow, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def flow(env):
    async with dispatch_flow(env, consumer_enabled=False, suggestion_time_limit_seconds=3) as f:
        yield f


async def engineer(flow: DispatchFlow, *skills: str, grade: int = 4, region: str = "east") -> str:
    eid = unique("eng")
    r = await flow.c.post("/engineers", headers=flow.d, json={
        "id": eid, "name": f"Engineer {eid}", "grade": grade, "home_region": region,
        "skills": [{"equipment_type": s, "level": 3} for s in skills], "certificates": [], "unavailability": []})
    assert r.status_code == 201, r.text
    return eid


async def leave(flow: DispatchFlow, engineer_id: str, start: datetime, end: datetime) -> None:
    current = (await flow.c.get(f"/engineers/{engineer_id}", headers=flow.d)).json()
    body = {k: current[k] for k in ("name", "grade", "home_region", "skills", "certificates", "active")}
    body["unavailability"] = [{"start": start.isoformat(), "end": end.isoformat(), "reason": "sick"}]
    r = await flow.c.put(f"/engineers/{engineer_id}", headers=flow.d, json=body)
    assert r.status_code == 200, r.text


async def staffed_case(flow: DispatchFlow, equipment: str, team: list[str], days: tuple[int, int]) -> dict:
    case = await flow.new_case(equipment={"type": equipment, "quantity": 1})
    confirmed = await flow.confirm_conditions(case["id"], arrival_days=days[0])
    assert confirmed.status_code == 201, confirmed.text
    staffed = await flow.assign(case["id"], team, days=days)
    assert staffed.status_code == 200, staffed.text
    return staffed.json()


async def repair_after_leave(flow: DispatchFlow, engineer_id: str, days: tuple[int, int], max_shift_days: int) -> dict:
    """The engineer falls ill from day `days[0]` to day `days[1]` from now; the repair replanning proposes."""
    now = datetime.now(UTC)
    await leave(flow, engineer_id, now + timedelta(days=days[0]), now + timedelta(days=days[1]))
    r = await flow.c.post(f"/engineers/{engineer_id}/replanning", headers=flow.d,
                          json={"max_shift_days": max_shift_days})
    assert r.status_code == 200, r.text
    return r.json()


def application(repair: dict, **arrival: str) -> dict:
    return {"reason": "engineer ill", "changes": [
        {"case_id": ch["case_id"], "case_version": ch["case_version"], "kind": ch["kind"],
         "engineers": [{"engineer_id": m["engineer_id"], "is_project_manager": m["is_project_manager"]}
                       for m in ch["team"]],
         "planned_start": ch["planned_start"], "planned_end": ch["planned_end"],
         **(arrival if ch["kind"] == "arrival" else {})} for ch in repair["changes"]]}


async def team_of(flow: DispatchFlow, case_id: str) -> set[str]:
    return {m["engineer_id"] for m in (await flow.c.get(f"/cases/{case_id}", headers=flow.d)).json()["team"]}


async def test_leave_gives_a_swap_that_the_s3_gate_rechecks_when_applied(flow):
    gis, xfmr = unique("GIS"), unique("XFMR")
    ill, w = await engineer(flow, gis), await engineer(flow, gis)
    y, v = await engineer(flow, gis, xfmr), await engineer(flow, xfmr)
    z = await engineer(flow, xfmr, region="central")
    a = await staffed_case(flow, gis, [ill, w], (40, 44))
    b = await staffed_case(flow, xfmr, [y, v], (41, 45))
    now = datetime.now(UTC)
    repair = await repair_after_leave(flow, ill, (39, 50), max_shift_days=0)
    assert [c["case_id"] for c in repair["affected"]] == [a["id"]]
    assert repair["status"] == "optimal" and repair["unrepaired"] == []
    new = {ch["case_id"]: {m["engineer_id"] for m in ch["team"]} for ch in repair["changes"]}
    assert new == {a["id"]: {y, w}, b["id"]: {z, v}}  # y moves to the ill engineer's case, z fills in
    assert repair["changed_assignments"] == 2 and repair["other_cases_changed"] == 1

    # z took leave meanwhile: the gate refuses naming the case, and nothing is applied
    await leave(flow, z, now + timedelta(days=41), now + timedelta(days=42))
    refused = await flow.c.post("/repair-applications", headers=flow.d, json=application(repair))
    assert refused.status_code == 409, refused.text
    assert refused.json()["case_id"] == b["id"] and z in refused.json()["detail"]
    assert await team_of(flow, a["id"]) == {ill, w} and await team_of(flow, b["id"]) == {y, v}

    await leave(flow, z, now + timedelta(days=90), now + timedelta(days=91))
    applied = await flow.c.post("/repair-applications", headers=flow.d, json=application(repair))
    assert applied.status_code == 200, applied.text
    assert [c["status"] for c in applied.json()["changes"]] == ["applied", "applied"]
    assert await team_of(flow, a["id"]) == {y, w} and await team_of(flow, b["id"]) == {z, v}
    # the same repair again was computed on versions that have moved on
    stale = await flow.c.post("/repair-applications", headers=flow.d, json=application(repair))
    assert stale.status_code == 412, stale.text


async def test_with_no_one_free_the_arrival_moves_through_s7_once_both_sides_are_told(flow):
    gis = unique("GIS")
    ill, w = await engineer(flow, gis), await engineer(flow, gis)
    case = await staffed_case(flow, gis, [ill, w], (60, 63))
    now = datetime.now(UTC)
    repair = await repair_after_leave(flow, ill, (59, 62), max_shift_days=7)
    (change,) = repair["changes"]
    assert change["kind"] == "arrival" and {m["engineer_id"] for m in change["team"]} == {ill, w}
    moved_to = datetime.fromisoformat(change["planned_start"])
    assert moved_to >= now + timedelta(days=62) and repair["changed_assignments"] == 3

    untold = await flow.c.post("/repair-applications", headers=flow.d, json=application(repair))
    assert untold.status_code == 409 and untold.json()["gate"] == "arrival reschedule", untold.text
    # `inform`: S7 through the system's messages (decision 0090); no regional centre recipient for the region
    unreachable = await flow.c.post("/repair-applications", headers=flow.d, json={**application(repair),
                                                                                  "inform": True})
    assert unreachable.status_code == 409 and unreachable.json()["case_id"] == case["id"], unreachable.text
    assert "regional centre" in unreachable.json()["detail"]
    told = now.isoformat()
    r = await flow.c.post("/repair-applications", headers=flow.d, json=application(
        repair, customer_notified_at=told, regional_centre_notified_at=told))
    assert r.status_code == 200, r.text
    after = (await flow.c.get(f"/cases/{case['id']}", headers=flow.d)).json()
    assert datetime.fromisoformat(after["planned_start"]) == moved_to


async def test_an_urgent_case_is_fitted_and_applied(flow):
    gis = unique("GIS")
    f1, f2 = await engineer(flow, gis), await engineer(flow, gis, region="northwest")
    urgent = await flow.new_case(equipment={"type": gis, "quantity": 1})
    assert (await flow.confirm_conditions(urgent["id"], arrival_days=30)).status_code == 201
    r = await flow.c.post(f"/cases/{urgent['id']}/urgent-fit", headers=flow.d, json={"duration_days": 2})
    assert r.status_code == 200, r.text
    fit = r.json()
    assert fit["other_cases_changed"] == 0 and fit["unrepaired"] == []
    assert {m["engineer_id"] for m in fit["changes"][0]["team"]} == {f1, f2}
    r = await flow.c.post("/repair-applications", headers=flow.d, json=application(fit))
    assert r.status_code == 200, r.text
    assert await team_of(flow, urgent["id"]) == {f1, f2}
    head = bearer(flow.env, "department_head", "head-9")
    assert (await flow.c.post(f"/cases/{urgent['id']}/urgent-fit", headers=head)).status_code == 403


async def test_s2_arrival_windows_are_the_days_a_qualified_team_is_free(flow):
    gis = unique("GIS")
    a, b = await engineer(flow, gis), await engineer(flow, gis)
    await staffed_case(flow, gis, [a, await engineer(flow, unique("XFMR"))], (70, 73))  # a is busy days 70-73
    case = await flow.new_case(equipment={"type": gis, "quantity": 1})
    first = date.today() + timedelta(days=69)
    r = await flow.c.get(f"/cases/{case['id']}/arrival-windows", headers=flow.d,
                         params={"from": first.isoformat(), "days": 10, "duration_days": 2, "limit": 2})
    assert r.status_code == 200, r.text
    windows = r.json()["windows"]
    starts = [datetime.fromisoformat(w["planned_start"]) for w in windows]
    assert starts == sorted(starts) and len(windows) == 2
    assert all(s.date() >= first + timedelta(days=4) for s in starts)  # a is free from day 73 or 74 on
    assert all({m["engineer_id"] for m in w["team"]} == {a, b} for w in windows)
    assert (await flow.c.get("/cases/00000000-0000-0000-0000-000000000000/arrival-windows",
                             headers=flow.d)).status_code == 404
    end_of_time = await flow.c.get(f"/cases/{case['id']}/arrival-windows", headers=flow.d,
                                   params={"from": "9999-12-30"})
    assert end_of_time.status_code == 422 and end_of_time.json()["errors"][0]["field"] == "query.from"
