"""Suggested assignment over HTTP: the suggestion passes the S3 gate when applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import running_app
from tests.integration.dispatch.conftest import DispatchFlow, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def flow(env):
    async with running_app(env, "dispatch", consumer_enabled=False, suggestion_time_limit_seconds=3) as (_a, c):
        yield DispatchFlow(env, c)


async def test_one_case_suggestion_is_accepted_by_the_assignment_gate(flow):
    equipment = unique("GIS")
    case = await flow.new_case(equipment={"type": equipment, "quantity": 1})
    assert (await flow.confirm_conditions(case["id"], arrival_days=40)).status_code == 201
    near = [await flow.engineer(grade=4, equipment_type=equipment, region="east") for _ in range(2)]
    far = await flow.engineer(grade=5, equipment_type=equipment, region="northwest")
    junior = await flow.engineer(grade=1, equipment_type=equipment, region="east")
    r = await flow.c.post(f"/cases/{case['id']}/assignment-suggestion", headers=flow.d, json={"duration_days": 4})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["solver"] in ("highs", "greedy") and isinstance(s["objective"], int)
    assert s["bound"] <= s["objective"] and 0 <= s["gap"] <= 1  # the proven bound comes with every answer
    team = s["teams"][0]["team"]
    ids = {m["engineer_id"] for m in team}
    assert ids == set(near) and far not in ids and junior not in ids  # least travel, grade 3 at least
    assert sum(m["is_project_manager"] for m in team) == 1
    apply = await flow.c.post(f"/cases/{case['id']}/assignment", headers=flow.d, json={
        "engineers": [{"engineer_id": m["engineer_id"], "is_project_manager": m["is_project_manager"]} for m in team],
        "planned_start": s["teams"][0]["planned_start"], "planned_end": s["teams"][0]["planned_end"]})
    assert apply.status_code == 200, apply.text


async def test_batch_suggestion_never_double_books(flow):
    equipment = unique("XFMR")
    cases = []
    for _ in range(3):
        case = await flow.new_case(equipment={"type": equipment, "quantity": 1})
        assert (await flow.confirm_conditions(case["id"], arrival_days=200)).status_code == 201
        cases.append(case["id"])
    engineers = [await flow.engineer(grade=4, equipment_type=equipment) for _ in range(3)]
    now = datetime.now(UTC)
    r = await flow.c.post("/assignment-suggestions", headers=flow.d, json={
        "arrival_from": (now + timedelta(days=199)).isoformat(), "arrival_to": (now + timedelta(days=201)).isoformat(),
        "duration_days": 3})
    assert r.status_code == 200, r.text
    s = r.json()
    staffed = {t["case_id"]: t["team"] for t in s["teams"]}
    unstaffed = {u["case_id"] for u in s["unstaffed"]}
    assert set(cases) <= set(staffed) | unstaffed
    # three cases at the same time, two engineers each, three engineers: only one can be staffed
    mine = [staffed[c] for c in cases if c in staffed]
    assert len(mine) == 1 and {m["engineer_id"] for m in mine[0]} <= set(engineers)
    bad = await flow.c.post("/assignment-suggestions", headers=flow.d, json={
        "arrival_from": now.isoformat(), "arrival_to": (now - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.arrival_to"
