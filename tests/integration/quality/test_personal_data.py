"""Personal data in quality over HTTP (decision 0093): an issue's description naming the customer's engineer
is exported and pseudonymised within the case dispatch names; the engineer who logged it is erased as a
pseudonym, the closed loop's record staying as it was."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import bearer
from tests.integration.quality.conftest import log_issue, quality_engineer, seat_team

pytestmark = pytest.mark.integration


async def test_a_contact_and_an_engineer_erased_from_the_issue_register(env, quality_http):
    app, client = quality_http
    case_id, eng = uuid.uuid4(), f"eng-{uuid.uuid4().hex[:6]}"
    await seat_team(app, case_id, [eng])
    issue = await log_issue(client, env, case_id, eng, description="Ma Jun (customer) saw the SF6 relay read low")
    officer = bearer(env, "privacy_officer", "dpo-1")

    params = {"subject_kind": "customer_contact", "subject": "ma.jun@grid.example.cn", "known_as": "Ma Jun",
              "case": str(case_id)}
    export = (await client.get("/personal-data", params=params, headers=officer)).json()
    assert [(f["table"], f["column"], [r["key"] for r in f["records"]]) for f in export["fields"]] == [
        ("quality_issue", "description", [issue["id"]])]
    r = await client.post("/personal-data/erasures", headers=officer, json={
        "subject_kind": "customer_contact", "subject": "ma.jun@grid.example.cn", "known_as": ["Ma Jun"],
        "cases": [str(case_id)]})
    assert r.status_code == 201, r.text
    alias = r.json()["pseudonym"]
    read = (await client.get(f"/issues/{issue['id']}", headers=quality_engineer(env))).json()
    assert read["description"] == f"{alias} (customer) saw the SF6 relay read low"
    assert read["severity"] == issue["severity"] and read["status"] == issue["status"]

    r = await client.post("/personal-data/erasures", headers=officer, json={"subject_kind": "engineer",
                                                                            "subject": eng})
    assert r.status_code == 201, r.text
    engineer_alias = r.json()["pseudonym"]
    assert r.json()["erased"]["quality_issue.logged_by"] == 1 and r.json()["erased"]["case_team.engineer_ids"] == 1
    read = (await client.get(f"/issues/{issue['id']}", headers=quality_engineer(env))).json()
    assert read["logged_by"] == engineer_alias
    # the access log is for privacy officers only
    assert (await client.get("/personal-data/access-log", headers=quality_engineer(env))).status_code == 403
