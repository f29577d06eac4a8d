"""Personal data in feedback over HTTP (decision 0093): feedback holds no contact addresses, so a contact is
found by the names and cases dispatch passes along; their survey comment and complaint are exported, then
pseudonymised in place (the scores stay), and free texts past FREE_TEXT_RETENTION_DAYS are purged on a
pinned clock."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.feedback.privacy import PRIVACY
from shared.api.personal_data import retention_job
from tests.integration.conftest import bearer
from tests.integration.feedback.conftest import CALL_TIME, agent, schedule_call

pytestmark = pytest.mark.integration


async def test_a_contact_found_by_name_within_their_case_exported_erased_and_purged(env, app, client):
    case_id = uuid.uuid4()
    call_id = await schedule_call(app, case_id=case_id)
    headers = agent(env, "s-pd")
    assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=headers)).status_code == 200
    r = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "reached"}, headers=headers)
    assert r.status_code == 201, r.text
    answers = [{"question_id": "overall", "value": 2}, {"question_id": "engineer", "value": 4},
               {"question_id": "recommend", "value": 8}, {"question_id": "on_time", "value": "yes"},
               {"question_id": "comment", "value": "Sun Li: 变压器漏油, call Sun Li back"}]
    r = await client.post(f"/follow-up-calls/{call_id}/survey-responses", json={"answers": answers}, headers=headers)
    assert r.status_code == 201 and len(r.json()["complaint_ids"]) == 1, r.text

    officer = bearer(env, "privacy_officer", "dpo-1")
    address = f"sun.{uuid.uuid4().hex[:6]}@grid.example.cn"
    params = {"subject_kind": "customer_contact", "subject": address, "known_as": "Sun Li", "case": str(case_id)}
    export = (await client.get("/personal-data", params=params, headers=officer)).json()
    found = {f"{f['table']}.{f['column']}": f["records"] for f in export["fields"]}
    assert set(found) == {"survey_response.answers", "complaint.text"}, found
    # the same name on another case is another person: not found without that case
    other = {**params, "case": str(uuid.uuid4())}
    assert (await client.get("/personal-data", params=other, headers=officer)).json()["fields"] == []

    r = await client.post("/personal-data/erasures", headers=officer, json={
        "subject_kind": "customer_contact", "subject": address, "known_as": ["Sun Li"], "cases": [str(case_id)]})
    assert r.status_code == 201, r.text
    alias = r.json()["pseudonym"]
    # the officer's two exports were reads of the contact's data: the access log now names the pseudonym
    assert r.json()["erased"] == {"survey_response.answers": 1, "complaint.text": 1,
                                  "personal_data_access.subject": 2}
    answers = await column(app, "SELECT answers FROM survey_response WHERE case_id = :c", case_id)
    assert {a["question_id"]: a["value"] for a in answers}["comment"] == f"{alias}: 变压器漏油, call {alias} back"
    assert {a["question_id"]: a["value"] for a in answers}["overall"] == 2
    export = (await client.get("/personal-data", params=params, headers=officer)).json()
    assert export["fields"] == []

    # retention: free texts are kept FREE_TEXT_RETENTION_DAYS (1095) after they were written, then replaced
    await retention_job(PRIVACY, clock=lambda: CALL_TIME + timedelta(days=1094))(app.state.runtime)
    kept = await column(app, "SELECT text FROM complaint WHERE case_id = :c", case_id)
    assert alias in kept and "Sun Li" not in kept
    await retention_job(PRIVACY, clock=lambda: CALL_TIME + timedelta(days=1096))(app.state.runtime)
    purged = await column(app, "SELECT text FROM complaint WHERE case_id = :c", case_id)
    assert purged.startswith("erased-") and purged != kept
    assert await column(app, "SELECT csat FROM survey_response WHERE case_id = :c", case_id) is not None


async def column(app, sql: str, case_id: uuid.UUID) -> Any:
    """One value as stored (what the API does not show: the survey's answers, a complaint's text)."""
    async with app.state.runtime.sessions() as session:
        return (await session.execute(text(sql), {"c": case_id})).scalar_one()
