"""The case record's end (decision 0075) and its paginated timeline: a completed case closes when the
standard's last duties are done (CaseClosed), reopens when a duty opens again (CaseReopened), and the
timeline is read page by page with the case list's keyset cursor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.events.feedback import FollowUpCallCompleted, FollowUpCallScheduled
from shared.events.onsite import EngineerArrived, EngineerDeparted, ServiceCompleted, ThreeCallEntry
from shared.events.quality import IssueLogged, IssueResolvedOnSite
from tests.integration.conftest import wait_async
from tests.integration.dispatch.conftest import dispatch_flow, envelope, publish

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
async def flow(env):
    async with dispatch_flow(env) as f:
        yield f


async def status_is(flow, cid: str, status: str) -> dict | None:
    case = (await flow.c.get(f"/cases/{cid}", headers=flow.d)).json()
    return case if case["status"] == status else None


async def all_pages(flow, cid: str, limit: int) -> list[dict]:
    entries, params = [], {"limit": limit}
    while True:
        r = await flow.c.get(f"/cases/{cid}/timeline", headers=flow.d, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        entries += page["items"]
        if page["next_cursor"] is None:
            return entries
        params = {"limit": limit, "cursor": page["next_cursor"]}


async def test_a_case_closes_when_its_last_duties_are_done_and_reopens_with_an_open_issue(flow, env):
    case, engineers = await flow.ready_case()
    cid = case["id"]
    assert (await flow.c.post(f"/cases/{cid}/dispatch", headers=flow.d)).status_code == 200
    visit, call, issue = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    v = {"case_id": cid, "visit_id": visit}
    calls = [ThreeCallEntry(party=p, called_at=NOW + timedelta(minutes=i), outcome="reached")
             for i, p in enumerate(["account_manager", "customer_contact", "site_interface"])]
    onsite = [EngineerArrived(**v, engineer_id=e, arrived_at=NOW, calls=calls) for e in engineers]
    onsite += [ServiceCompleted(**v, completed_at=NOW, customer_name="Jiangsu Grid", region="east",
                                equipment_type="GIS-126kV", engineer_ids=engineers),
               EngineerDeparted(**v, engineer_id=engineers[0], departed_at=NOW)]
    await publish(env, *[("onsite", envelope("onsite", p, cid, engineers[0])) for p in onsite])
    await wait_async("the case completed", lambda: status_is(flow, cid, "completed"))

    # the follow-up call ends, but one engineer is still on site: the case stays completed
    feedback = [FollowUpCallScheduled(case_id=cid, call_id=call, reason="service_completed", due_at=NOW),
                FollowUpCallCompleted(case_id=cid, call_id=call, outcome="reached", attempts=1, agent="agent-1")]
    await publish(env, *[("feedback", envelope("feedback", p, cid, "agent-1")) for p in feedback])

    async def call_recorded() -> bool:
        return any(e["event_type"] == "FollowUpCallCompleted" for e in await all_pages(flow, cid, 200))

    await wait_async("the call on the timeline", call_recorded)
    assert await status_is(flow, cid, "completed")

    last = EngineerDeparted(**v, engineer_id=engineers[1], departed_at=NOW, visit_closed=True)
    await publish(env, ("onsite", envelope("onsite", last, cid, engineers[1])))
    closed = await wait_async("the case closed", lambda: status_is(flow, cid, "closed"))
    assert closed["updated_by"] == "service:dispatch"

    async def timeline_has(event_type: str, n: int = 1) -> list[dict] | None:
        entries = await all_pages(flow, cid, 200)
        return entries if sum(e["event_type"] == event_type for e in entries) >= n else None

    entries = await wait_async("CaseClosed on the timeline", lambda: timeline_has("CaseClosed"))
    assert next(e for e in entries if e["event_type"] == "CaseClosed")["source"] == "/fieldservice/dispatch"

    # a quality issue logged afterwards (e.g. from a complaint) opens a duty again: back to completed
    logged = IssueLogged(issue_id=issue, case_id=cid, product="GIS bay", failure_mode="gas-leak", severity="major",
                         description="SF6 density low", logged_by="qe-1", source="complaint")
    await publish(env, ("quality", envelope("quality", logged, cid, "qe-1")))
    await wait_async("the case reopened", lambda: status_is(flow, cid, "completed"))
    entries = await wait_async("CaseReopened on the timeline", lambda: timeline_has("CaseReopened"))
    reopened = next(e for e in entries if e["event_type"] == "CaseReopened")
    assert reopened["data"]["reasons"] == [f"S25: quality issue {issue} is open"]

    fixed = IssueResolvedOnSite(issue_id=issue, case_id=cid, resolution="seal replaced", resolved_by="eng-1",
                                customer_confirmed_by="Wang Fang")
    await publish(env, ("quality", envelope("quality", fixed, cid, "qe-1")))
    await wait_async("the case closed again", lambda: status_is(flow, cid, "closed"))
    await wait_async("a second CaseClosed", lambda: timeline_has("CaseClosed", 2))
    listed = (await flow.c.get("/cases", headers=flow.d, params={"status": "closed", "region": case["region"]})).json()
    assert cid in [c["id"] for c in listed["items"]]


async def test_the_timeline_is_read_page_by_page_with_the_case_lists_cursor(flow, env):
    case, _engineers = await flow.ready_case()
    cid = case["id"]
    assert (await flow.c.post(f"/cases/{cid}/dispatch", headers=flow.d)).status_code == 200

    async def dispatched() -> list[dict] | None:
        entries = await all_pages(flow, cid, 200)
        return entries if any(e["event_type"] == "ServiceDispatched" for e in entries) else None

    whole = await wait_async("the dispatch on the timeline", dispatched)
    assert len(whole) >= 7  # received, acknowledged, conditions, assigned, plan, pack, preparation, dispatched
    first = (await flow.c.get(f"/cases/{cid}/timeline", headers=flow.d, params={"limit": 3})).json()
    assert set(first) == {"items", "next_cursor"} and len(first["items"]) == 3 and first["next_cursor"]
    paged = await all_pages(flow, cid, 3)
    assert [e["event_id"] for e in paged] == [e["event_id"] for e in whole]  # no entry lost or repeated
    keys = [(datetime.fromisoformat(e["occurred_at"]), e["event_id"]) for e in paged]
    assert keys == sorted(keys)  # oldest first
    assert paged[0]["event_type"] == "ServiceRequestReceived"
    bad = await flow.c.get(f"/cases/{cid}/timeline", headers=flow.d, params={"cursor": "not-a-cursor"})
    assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith("application/problem+json")
    too_many = await flow.c.get(f"/cases/{cid}/timeline", headers=flow.d, params={"limit": 201})
    assert too_many.status_code == 422
    missing = await flow.c.get(f"/cases/{uuid.uuid4()}/timeline", headers=flow.d)
    assert missing.status_code == 404
