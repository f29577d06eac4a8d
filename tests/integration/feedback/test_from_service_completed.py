"""End to end in feedback, from onsite's ServiceCompleted (published to onsite.events here) through
the call lifecycle, survey, complaint to quality (on feedback.events) and S32, over Kafka."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from shared.events import EventEnvelope
from shared.events.onsite import CustomerInformationCaptured, TrainingDelivered
from shared.events.quality import IssueClosed, IssueEscalated, IssueLogged
from tests.integration.conftest import bearer, producer, read_topic, running_app, wait_async
from tests.integration.feedback.conftest import CALL_TIME, agent, completed_event, envelope_of

pytestmark = pytest.mark.integration


async def _publish(env, topic: str, *envelopes: EventEnvelope) -> None:
    async with producer(env) as p:
        for e in envelopes:
            await p.send_and_wait(topic, e.to_bytes(), key=e.subject.encode())


def _on(messages, event_type: str, **match) -> list[dict]:
    found = []
    for m in messages:
        body = json.loads(m.value)
        if body["type"] == event_type and all(body["data"].get(k) == v for k, v in match.items()):
            found.append(body)
    return found


async def test_from_service_completed_to_completed_call_complaint_issue_and_s32(env):
    async with running_app(env, "feedback") as (app, client):
        app.state.clock.set(CALL_TIME)
        event = completed_event(receipt_rating=3)
        case_id = str(event.case_id)
        first = envelope_of(event)
        # The same completion twice under different event ids, and the same envelope twice.
        await _publish(env, "onsite.events", first, first, envelope_of(event))
        a = agent(env, "e2e-agent")

        async def calls() -> list[dict]:
            r = await client.get("/follow-up-calls", params={"case_id": case_id}, headers=a)
            return r.json()["items"]

        call = (await wait_async("the follow-up call to be scheduled", calls, timeout=30))[0]
        records = await wait_async("the receipt rating stored as feedback", lambda: _records(client, env, case_id))
        assert records[0]["kind"] == "receipt_rating" and records[0]["score"] == 3.0
        call_id = call["id"]

        # scheduled -> claimed -> no answer -> claimed again -> reached -> survey (low) -> completed
        assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a)).status_code == 200
        await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "no_answer"}, headers=a)
        app.state.clock.advance(timedelta(hours=4))
        assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=a)).status_code == 200
        await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "reached"}, headers=a)
        answers = [{"question_id": "overall", "value": 1}, {"question_id": "engineer", "value": 3},
                   {"question_id": "recommend", "value": 2}, {"question_id": "on_time", "value": "yes"},
                   {"question_id": "comment", "value": "SF6 alarm again after a week"}]
        survey = await client.post(f"/follow-up-calls/{call_id}/survey-responses", json={"answers": answers},
                                   headers=a)
        assert survey.status_code == 201, survey.text
        complaint_id = survey.json()["complaint_ids"][0]
        done = await client.post(f"/follow-up-calls/{call_id}/outcome", json={"outcome": "reached"}, headers=a)
        assert done.status_code == 201, done.text

        # Every fact is on feedback.events, ComplaintRaised for quality to consume.
        wanted = ["FollowUpCallScheduled", "FeedbackRecorded", "FollowUpCallAttempted", "SurveyAnswered",
                  "ComplaintRaised", "FollowUpCallCompleted"]
        messages = await read_topic(env, "feedback.events", timeout=20, stop_when=lambda ms: all(
            any(json.loads(m.value)["type"] == t and json.loads(m.value)["subject"] == case_id for m in ms)
            for t in wanted))
        assert len(_on(messages, "FollowUpCallScheduled", case_id=case_id)) == 1
        raised = _on(messages, "ComplaintRaised", complaint_id=complaint_id)
        assert raised and raised[0]["data"]["score"] == 1.0 and raised[0]["source"] == "/fieldservice/feedback"
        assert _on(messages, "FollowUpCallCompleted", call_id=call_id)[0]["data"]["outcome"] == "reached"

        # Quality turns the complaint into an issue; the call shows it and follows its state.
        issue_id = uuid.uuid4()
        logged = IssueLogged(issue_id=issue_id, case_id=event.case_id, product="GIS-126kV", failure_mode="sf6-alarm",
                             severity="major", description=raised[0]["data"]["text"], source="complaint",
                             logged_by="qe-1", complaint_id=complaint_id)
        escalated = IssueEscalated(issue_id=issue_id, case_id=event.case_id, responsible_unit="switchgear",
                                   owner="qe-2", due_at=CALL_TIME + timedelta(days=5))
        closed = IssueClosed(issue_id=issue_id, case_id=event.case_id, closed_by="qe-2", customer_visible=True,
                             customer_name=event.customer_name, region=event.region)
        await _publish(env, "quality.events", *(envelope_of(p, "quality") for p in (logged, escalated, closed)))

        async def issue_state() -> str | None:
            detail = (await client.get(f"/follow-up-calls/{call_id}", headers=a)).json()
            c = detail["complaints"][0]
            return c["issue_state"] if c["issue_id"] == str(issue_id) and c["issue_state"] == "closed" else None

        await wait_async("the call to show the complaint's issue closed", issue_state)
        fix_calls = await wait_async("a fix-confirmation call", lambda: _fix_call(client, a, case_id))
        assert fix_calls[0]["issue_id"] == str(issue_id) and fix_calls[0]["priority"] == 2
        assert fix_calls[0]["equipment_type"] == event.equipment_type

        # S31 training evaluation and S32 information captured on site.
        training = TrainingDelivered(case_id=event.case_id, visit_id=event.visit_id, training_id=uuid.uuid4(),
                                     topics=["use", "maintenance"], attendees=6, evaluation_scores=[5, 4, 4])
        info = CustomerInformationCaptured(case_id=event.case_id, visit_id=event.visit_id, info_id=uuid.uuid4(),
                                           kind="suggestion", text="add a remote SF6 monitor",
                                           customer_name=event.customer_name, region=event.region)
        await _publish(env, "onsite.events", envelope_of(training), envelope_of(info), envelope_of(info))
        evaluations = await wait_async("the training evaluation", lambda: _records(client, env, case_id,
                                                                                   "training_evaluation"))
        assert round(evaluations[0]["score"], 2) == 4.33
        head = bearer(env, "department_head", "tech-head", unit="technology_department")
        routed = await wait_async("the information to be routed", lambda: _info(client, head, case_id))
        assert routed[0]["department"] == "technology_department" and routed[0]["source"] == "onsite"
        answer = {"answer": "added to next year's product plan", "customer_notification": {
            "channel": "letter", "notified_at": CALL_TIME.isoformat(), "text": "letter with the plan"}}
        r = await client.post(f"/customer-information/{routed[0]['id']}/answer", json=answer, headers=head)
        assert r.status_code == 200, r.text
        later = await read_topic(env, "feedback.events", timeout=20, stop_when=lambda ms: bool(
            _on(ms, "CustomerInformationAnswered", info_id=routed[0]["id"])))
        assert len(_on(later, "CustomerInformationRouted", info_id=routed[0]["id"])) == 1


async def _records(client, env, case_id: str, kind: str = "receipt_rating") -> list[dict]:
    r = await client.get("/feedback-records", params={"case_id": case_id, "kind": kind},
                         headers=bearer(env, "department_head", "h"))
    return r.json()["items"]


async def _fix_call(client, headers, case_id: str) -> list[dict]:
    items = (await client.get("/follow-up-calls", params={"case_id": case_id}, headers=headers)).json()["items"]
    return [c for c in items if c["reason"] == "issue_closed"]


async def _info(client, headers, case_id: str) -> list[dict]:
    return (await client.get("/customer-information", params={"case_id": case_id}, headers=headers)).json()["items"]
