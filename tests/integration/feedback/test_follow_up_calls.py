"""S34 follow-up calls over HTTP: queue, claims with leases, attempts, retries, outcome, idempotency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from tests.integration.conftest import bearer
from tests.integration.feedback.conftest import CALL_TIME, COMPLETED_AT, DUE_AT, agent, outbox, schedule_call, tool

pytestmark = pytest.mark.integration

ANSWERS = [{"question_id": "overall", "value": 5}, {"question_id": "engineer", "value": 5},
           {"question_id": "recommend", "value": 10}, {"question_id": "on_time", "value": "yes"}]


async def test_a_call_is_scheduled_in_the_calling_window_and_listed(env, app, client):
    call_id = await schedule_call(app)
    r = await client.get(f"/follow-up-calls/{call_id}", headers=agent(env, "a1"))
    assert r.status_code == 200, r.text
    call = r.json()
    assert call["status"] == "scheduled" and call["due_at"].startswith(DUE_AT.isoformat()[:19])
    assert r.headers["etag"] == 'W/"1"'
    listed = await client.get("/follow-up-calls", params={"case_id": call["case_id"]}, headers=agent(env, "a1"))
    assert [c["id"] for c in listed.json()["items"]] == [str(call_id)]
    assert (await outbox(app, "FollowUpCallScheduled", call_id=str(call_id)))


async def test_full_lifecycle_claim_attempts_survey_outcome(env, app, client):
    call_id = await schedule_call(app)
    a1, a2 = agent(env, "agent-1"), agent(env, "agent-2")
    claimed = await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a1)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claimed_by"] == "agent-1"
    lease_until = claimed.json()["lease_expires_at"]

    refused = await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a2)
    assert refused.status_code == 409
    assert refused.json()["held_by"] == "agent-1" and refused.json()["lease_expires_at"] == lease_until

    not_holder = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "no_answer"}, headers=a2)
    assert not_holder.status_code == 403

    first = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "no_answer"}, headers=a1)
    assert first.status_code == 201, first.text
    after = (await client.get(f"/follow-up-calls/{call_id}", headers=a1)).json()
    # Requeued four hours later (15:00 local, inside the window), lease released.
    assert after["due_at"].startswith((CALL_TIME + timedelta(hours=4)).isoformat()[:19])
    assert after["claimed_by"] is None and after["attempts"] == 1

    app.state.clock.set(CALL_TIME + timedelta(hours=4))
    assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a2)).status_code == 200
    reached = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "reached"}, headers=a2)
    assert reached.status_code == 201
    gate = await client.post(f"/follow-up-calls/{call_id}/outcome", json={"outcome": "reached"}, headers=a2)
    assert gate.status_code == 409 and gate.json()["type"].endswith("/gate-refused")
    assert any("survey" in m for m in gate.json()["missing_conditions"])

    answered = await client.post(f"/follow-up-calls/{call_id}/survey-responses", json={"answers": ANSWERS},
                                 headers=a2)
    assert answered.status_code == 201, answered.text
    assert answered.json()["csat"] == 5 and answered.json()["nps"] == 10 and answered.json()["complaint_ids"] == []

    done = await client.post(f"/follow-up-calls/{call_id}/outcome", json={"outcome": "reached"}, headers=a2)
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "completed" and done.json()["outcome"] == "reached"
    detail = (await client.get(f"/follow-up-calls/{call_id}", headers=a1)).json()
    assert [a["result"] for a in detail["attempts_made"]] == ["no_answer", "reached"]
    assert len(detail["survey_response_ids"]) == 1
    completed = await outbox(app, "FollowUpCallCompleted", call_id=str(call_id))
    assert completed == [{"call_id": str(call_id), "case_id": detail["case_id"], "outcome": "reached",
                          "attempts": 2, "agent": "agent-2"}]
    assert len(await outbox(app, "FollowUpCallAttempted", call_id=str(call_id))) == 2
    assert len(await outbox(app, "SurveyAnswered", call_id=str(call_id))) == 1


async def test_a_lease_expires_and_another_agent_may_claim(env, app, client):
    call_id = await schedule_call(app)
    a1, a2 = agent(env, "lease-1"), agent(env, "lease-2")
    assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a1)).status_code == 200
    app.state.clock.advance(timedelta(minutes=14))
    assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a2)).status_code == 409
    app.state.clock.advance(timedelta(minutes=2))
    taken = await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a2)
    assert taken.status_code == 200 and taken.json()["claimed_by"] == "lease-2"
    late = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "reached"}, headers=a1)
    assert late.status_code == 403


async def test_three_unanswered_attempts_close_the_call_as_unreachable(env, app, client):
    call_id = await schedule_call(app)
    a1 = agent(env, "retry-1")
    for attempt in range(3):
        call = (await client.get(f"/follow-up-calls/{call_id}", headers=a1)).json()
        assert call["status"] == "scheduled"
        app.state.clock.set(max(app.state.clock.now(), datetime.fromisoformat(call["due_at"])))
        assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a1)).status_code == 200
        r = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "no_answer"}, headers=a1)
        assert r.status_code == 201 and r.json()["number"] == attempt + 1
    call = (await client.get(f"/follow-up-calls/{call_id}", headers=a1)).json()
    assert call["status"] == "unreachable" and call["outcome"] == "unreachable"
    assert await outbox(app, "FollowUpCallCompleted", call_id=str(call_id), outcome="unreachable")


async def test_a_wrong_number_closes_the_call_and_call_back_requeues_it(env, app, client):
    a1 = agent(env, "wn-1")
    wrong = await schedule_call(app)
    await client.post(f"/follow-up-calls/{wrong}/claim", json={}, headers=a1)
    await client.post(f"/follow-up-calls/{wrong}/attempts", json={"result": "wrong_number"}, headers=a1)
    assert (await client.get(f"/follow-up-calls/{wrong}", headers=a1)).json()["status"] == "unreachable"

    later = await schedule_call(app)
    await client.post(f"/follow-up-calls/{later}/claim", json={}, headers=a1)
    bad = await client.post(f"/follow-up-calls/{later}/attempts", json={"result": "call_back"}, headers=a1)
    assert bad.status_code == 422 and "call_back_at" in bad.json()["detail"]
    at = (CALL_TIME + timedelta(days=1)).isoformat()
    ok = await client.post(f"/follow-up-calls/{later}/attempts", json={"result": "call_back", "call_back_at": at},
                           headers=a1)
    assert ok.status_code == 201
    call = (await client.get(f"/follow-up-calls/{later}", headers=a1)).json()
    assert call["due_at"].startswith(at[:19]) and call["status"] == "scheduled"
    early = await client.post(f"/follow-up-calls/{later}/claim", json={}, headers=a1)
    assert early.status_code == 409 and "not due" in early.json()["detail"]
    assert early.json()["type"].endswith("/call-not-due") and early.json()["due_at"]


async def test_the_sweep_frees_expired_leases_and_closes_calls_past_the_retry_period(env, app, client):
    a1 = agent(env, "sweep-1")
    call_id = await schedule_call(app)
    await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a1)
    await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "no_answer"}, headers=a1)
    held = await schedule_call(app)
    await client.post(f"/follow-up-calls/{held}/claim", json={}, headers=a1)

    app.state.clock.advance(timedelta(hours=49))
    await app.state.follow_up_sweep(app.state.runtime)
    assert (await client.get(f"/follow-up-calls/{call_id}", headers=a1)).json()["status"] == "unreachable"
    freed = (await client.get(f"/follow-up-calls/{held}", headers=a1)).json()
    assert freed["status"] == "scheduled" and freed["claimed_by"] is None
    assert await outbox(app, "FollowUpCallCompleted", call_id=str(call_id), outcome="unreachable")


async def _reached_and_answered(client, env, call_id: uuid.UUID, agent_name: str, key_prefix: str) -> None:
    assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={"agent": agent_name},
                              headers=tool(env))).status_code == 200
    r = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"agent": agent_name, "result": "reached"},
                          headers=tool(env, f"{key_prefix}-attempt"))
    assert r.status_code == 201, r.text
    r = await client.post(f"/follow-up-calls/{call_id}/survey-responses",
                          json={"agent": agent_name, "answers": ANSWERS}, headers=tool(env, f"{key_prefix}-survey"))
    assert r.status_code == 201, r.text


async def test_the_same_outcome_twice_with_one_key_is_one_record(env, app, client):
    call_id = await schedule_call(app)
    key = f"outcome-{uuid.uuid4()}"
    await _reached_and_answered(client, env, call_id, "agent-9", key)
    body = {"agent": "agent-9", "outcome": "reached", "note": "satisfied"}
    first, second = await asyncio.gather(
        client.post(f"/follow-up-calls/{call_id}/outcome", json=body, headers=tool(env, key)),
        client.post(f"/follow-up-calls/{call_id}/outcome", json=body, headers=tool(env, key)))
    assert {first.status_code, second.status_code} == {201}, (first.text, second.text)
    assert first.json() == second.json()
    third = await client.post(f"/follow-up-calls/{call_id}/outcome", json=body, headers=tool(env, key))
    assert third.status_code == 201 and third.headers.get("idempotent-replayed") == "true"
    assert len(await outbox(app, "FollowUpCallCompleted", call_id=str(call_id))) == 1
    other = await client.post(f"/follow-up-calls/{call_id}/outcome", json={**body, "note": "x"}, headers=tool(env, key))
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    # Without the key, a second outcome finds the call closed.
    again = await client.post(f"/follow-up-calls/{call_id}/outcome", json=body, headers=tool(env, f"{key}-new"))
    assert again.status_code == 409


async def test_an_outcome_for_a_call_one_does_not_hold_is_forbidden(env, app, client):
    call_id = await schedule_call(app)
    await _reached_and_answered(client, env, call_id, "holder", f"k-{uuid.uuid4()}")
    r = await client.post(f"/follow-up-calls/{call_id}/outcome", json={"agent": "intruder", "outcome": "declined"},
                          headers=tool(env, f"k-{uuid.uuid4()}"))
    assert r.status_code == 403
    human = await client.post(f"/follow-up-calls/{call_id}/outcome", json={"outcome": "declined"},
                              headers=agent(env, "someone-else"))
    assert human.status_code == 403


async def test_the_tool_must_name_the_agent_and_send_an_idempotency_key(env, app, client):
    call_id = await schedule_call(app)
    assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=tool(env))).status_code == 422
    await client.post(f"/follow-up-calls/{call_id}/claim", json={"agent": "t-1"}, headers=tool(env))
    r = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"agent": "t-1", "result": "reached"},
                          headers=tool(env))
    assert r.status_code == 428
    impersonation = await client.post(f"/follow-up-calls/{call_id}/claim", json={"agent": "t-1"},
                                      headers=agent(env, "t-2"))
    assert impersonation.status_code == 403
    engineer = await client.get("/follow-up-calls/queue", headers=_engineer(env))
    assert engineer.status_code == 403


def _engineer(env) -> dict[str, str]:
    return bearer(env, "engineer", "eng-1")


async def test_the_queue_orders_by_priority_then_age_with_keyset_pages(env, app, client):
    region = f"r-{uuid.uuid4().hex[:8]}"
    routine_old = await schedule_call(app, region=region)
    poor_rating = await schedule_call(app, region=region, receipt_rating=2)
    routine_new = await schedule_call(app, region=region, completed_at=COMPLETED_AT + timedelta(hours=1))
    a1 = agent(env, "q-1")
    page1 = await client.get("/follow-up-calls/queue", params={"region": region, "limit": 2}, headers=a1)
    assert page1.status_code == 200, page1.text
    page2 = await client.get("/follow-up-calls/queue", params={"region": region, "limit": 2,
                                                                "cursor": page1.json()["next_cursor"]}, headers=a1)
    order = [c["id"] for c in page1.json()["items"] + page2.json()["items"]]
    assert order == [str(poor_rating), str(routine_old), str(routine_new)]
    assert page2.json()["next_cursor"] is None
    await client.post(f"/follow-up-calls/{poor_rating}/claim", json={}, headers=a1)
    held_out = await client.get("/follow-up-calls/queue", params={"region": region}, headers=a1)
    assert str(poor_rating) not in [c["id"] for c in held_out.json()["items"]]


async def test_two_agents_claiming_the_next_call_at_once_get_different_calls(env, app, client):
    for _ in range(2):
        await schedule_call(app)
    one, two = await asyncio.gather(
        client.post("/follow-up-calls/claim-next", json={}, headers=agent(env, "next-1")),
        client.post("/follow-up-calls/claim-next", json={}, headers=agent(env, "next-2")))
    assert one.status_code == two.status_code == 200, (one.text, two.text)
    assert one.json()["id"] != two.json()["id"]
    assert {one.json()["claimed_by"], two.json()["claimed_by"]} == {"next-1", "next-2"}


async def test_two_agents_claiming_one_call_at_once_one_wins(env, app, client):
    call_id = await schedule_call(app)
    one, two = await asyncio.gather(
        client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=agent(env, "race-1")),
        client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=agent(env, "race-2")))
    assert sorted([one.status_code, two.status_code]) == [200, 409]
    winner, loser = (one, two) if one.status_code == 200 else (two, one)
    assert loser.json()["held_by"] == winner.json()["claimed_by"]
    mine = await client.get("/follow-up-calls", params={"held_by": winner.json()["claimed_by"]},
                            headers=agent(env, "x"))
    assert [c["id"] for c in mine.json()["items"]] == [str(call_id)]


async def test_metrics_show_the_calls_waiting_in_the_queue(env, app, client):
    await schedule_call(app)
    text = (await client.get("/metrics")).text
    due = next(line for line in text.splitlines() if line.startswith('feedback_follow_up_calls{state="due"}'))
    assert float(due.split()[-1]) >= 1
