"""Views across quality issues over HTTP: filters with keyset pages, recurrence, mean time to close."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import every_page
from tests.integration.quality.conftest import (
    LOOP_STEPS,
    engineer,
    escalate,
    log_issue,
    quality_engineer,
    seat_team,
)

pytestmark = pytest.mark.integration


async def test_issues_by_filter_in_keyset_pages(env, quality_http):
    app, c = quality_http
    case_id = uuid.uuid4()
    await seat_team(app, case_id, ["eng-v"])
    product = f"RMU-{uuid.uuid4().hex[:6]}"
    ids = [(await log_issue(c, env, case_id, "eng-v", product=product, severity="minor"))["id"] for _ in range(5)]
    await escalate(c, env, ids[0], owner="qe-views")
    qe = quality_engineer(env)

    seen = [i["id"] for i in await every_page(c, "/issues", qe, product=product, limit=2)]
    assert seen == list(reversed(ids))  # newest first, each once

    by_owner = (await c.get("/issues", params={"owner": "qe-views", "product": product}, headers=qe)).json()
    assert [i["id"] for i in by_owner["items"]] == [ids[0]]
    escalated = (await c.get("/issues", params={"state": "escalated", "product": product}, headers=qe)).json()
    assert [i["id"] for i in escalated["items"]] == [ids[0]]
    old = (await c.get("/issues", params={"product": product, "min_age_days": 1}, headers=qe)).json()
    assert old["items"] == []
    young = (await c.get("/issues", params={"product": product, "max_age_days": 1, "severity": "minor",
                                            "failure_mode": "gas-leak", "case_id": str(case_id)}, headers=qe)).json()
    assert len(young["items"]) == 5
    assert (await c.get("/issues", params={"product": product}, headers=engineer(env, "eng-v"))).status_code == 403
    assert (await c.get("/issues", params={"cursor": "not-a-cursor"}, headers=qe)).status_code == 422


async def test_recurrence_and_mean_time_to_close(env, quality_http):
    app, c = quality_http
    model = f"ZF-{uuid.uuid4().hex[:6]}"
    cases = [uuid.uuid4() for _ in range(3)]
    for case_id in cases:
        await seat_team(app, case_id, ["eng-r"])
    for case_id in cases[:2]:
        await log_issue(c, env, case_id, "eng-r", model=model, failure_mode="partial-discharge")
    await log_issue(c, env, cases[2], "eng-r", model=model, failure_mode="corrosion")
    qe = quality_engineer(env)
    groups = (await c.get("/issue-views/recurrence", headers=qe)).json()
    mine = [g for g in groups if g["model"] == model]
    assert len(mine) == 1
    assert mine[0]["failure_mode"] == "partial-discharge" and mine[0]["case_count"] == 2
    assert set(mine[0]["case_ids"]) == {str(c_) for c_ in cases[:2]}

    issue = await log_issue(c, env, cases[0], "eng-r", severity="critical")
    await escalate(c, env, issue["id"])
    for path, body in LOOP_STEPS:
        assert (await c.post(f"/issues/{issue['id']}/{path}", headers=qe, json=body)).status_code == 200
    assert (await c.post(f"/issues/{issue['id']}/closure", headers=qe, json={})).status_code == 200
    ttc = {r["severity"]: r for r in (await c.get("/issue-views/time-to-close", headers=qe)).json()}
    assert ttc["critical"]["closed_count"] >= 1 and ttc["critical"]["mean_hours"] >= 0
    assert (await c.get("/issue-views/time-to-close", headers=engineer(env, "eng-r"))).status_code == 403
    past = await c.get("/issue-views/past-sla", headers=qe)
    assert past.status_code == 200 and issue["id"] not in {i["id"] for i in past.json()}
