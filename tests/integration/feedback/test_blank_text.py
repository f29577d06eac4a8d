"""Required text is never only blanks in the feedback service (issue 13, item 5)."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.feedback.conftest import schedule_call, tool

pytestmark = pytest.mark.integration


async def test_customer_information_that_is_only_blanks_is_refused_naming_the_field(env, app, client):
    call_id = await schedule_call(app, region="north")
    path = f"/follow-up-calls/{call_id}/customer-information"
    r = await client.post(path, json={"agent": "agent-3", "kind": "suggestion", "text": " \t  "},
                          headers=tool(env, f"info-{uuid.uuid4()}"))
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["body.text"]
    r = await client.post(path, json={"agent": "agent-3", "kind": "suggestion", "text": "call before noon"},
                          headers=tool(env, f"info-{uuid.uuid4()}"))
    assert r.status_code == 201, r.text
