"""Consequences of the standard in dispatch (issue 13, items 5 and 6): one refusal shape, required text never
blank, S6 items from the plan and S2, S22-S24 answers from the routed unit, S24 escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import running_app
from tests.integration.dispatch.conftest import DispatchFlow

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def flow(env):
    async with running_app(env, "dispatch", consumer_enabled=False) as (app, client):
        f = DispatchFlow(env, client)
        f.app = app
        yield f


def gate(r, name: str) -> list[str]:
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["type"].endswith("/gate-refused") and body["gate"] == name, body
    return body["missing_conditions"]


async def test_s2_before_acknowledgement_is_a_refused_gate_then_succeeds(flow):
    case = await flow.new_case(acknowledge=False)
    assert gate(await flow.confirm_conditions(case["id"]), "service conditions") == [
        "S1: the request is not acknowledged (the case is received)"]
    assert (await flow.c.post(f"/cases/{case['id']}/acknowledge", headers=flow.d)).status_code == 200
    assert (await flow.confirm_conditions(case["id"])).status_code == 201
    again = await flow.c.post(f"/cases/{case['id']}/acknowledge", headers=flow.d)
    assert gate(again, "case status") == ["S1: a case that is acknowledged cannot become acknowledged"]


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
