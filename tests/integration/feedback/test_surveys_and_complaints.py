"""Surveys over HTTP: questionnaire versions, answers that do not fit, one-time links, complaints."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.feedback.complaints import service as complaints
from services.feedback.complaints.models import Complaint
from services.feedback.handlers import build_handlers
from shared.db import transaction
from shared.events.quality import IssueLogged, IssueReopened
from tests.integration.conftest import bearer
from tests.integration.feedback.conftest import agent, envelope_of, outbox, schedule_call

pytestmark = pytest.mark.integration


async def _reached(client, env, name: str, call_id) -> dict[str, str]:
    headers = agent(env, name)
    assert (await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=headers)).status_code == 200
    r = await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "reached"}, headers=headers)
    assert r.status_code == 201
    return headers


async def test_the_default_questionnaire_has_chinese_and_english_texts(env, client):
    r = await client.get("/questionnaires/follow-up", headers=agent(env, "s-0"))
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["version"] >= 1 and q["title_zh"] and q["title_en"]
    types = {x["type"] for x in q["questions"]}
    assert types == {"scale_1_5", "nps_0_10", "choice", "free_text"}
    assert all(x["text_zh"] and x["text_en"] for x in q["questions"])


async def test_answers_that_do_not_fit_the_version_are_refused_naming_each_question(env, app, client):
    call_id = await schedule_call(app)
    headers = await _reached(client, env, "s-1", call_id)
    bad = [{"question_id": "overall", "value": 7}, {"question_id": "recommend", "value": "ten"},
           {"question_id": "on_time", "value": "maybe"}, {"question_id": "nonsense", "value": 1}]
    r = await client.post(f"/follow-up-calls/{call_id}/survey-responses", json={"answers": bad}, headers=headers)
    assert r.status_code == 422, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"answers.overall", "answers.recommend", "answers.on_time", "answers.nonsense",
                      "answers.engineer"}
    assert "overall" in r.json()["detail"] and "engineer" in r.json()["detail"]
    unknown = await client.post(f"/follow-up-calls/{call_id}/survey-responses",
                                json={"answers": bad, "questionnaire_version": 999}, headers=headers)
    assert unknown.status_code == 404


async def test_a_survey_before_the_customer_was_reached_is_refused(env, app, client):
    call_id = await schedule_call(app)
    headers = agent(env, "s-2")
    await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=headers)
    r = await client.post(f"/follow-up-calls/{call_id}/survey-responses",
                          json={"answers": [{"question_id": "overall", "value": 5}]}, headers=headers)
    assert r.status_code == 409 and r.json()["missing_conditions"] == ["an attempt that reached the customer"]


async def test_a_low_score_raises_a_complaint_for_quality_and_the_call_shows_it(env, app, client):
    call_id = await schedule_call(app)
    headers = await _reached(client, env, "s-3", call_id)
    answers = [{"question_id": "overall", "value": 2}, {"question_id": "engineer", "value": 4},
               {"question_id": "recommend", "value": 8}, {"question_id": "on_time", "value": "yes"},
               {"question_id": "comment", "value": "变压器漏油 / the transformer leaks oil"}]
    r = await client.post(f"/follow-up-calls/{call_id}/survey-responses", json={"answers": answers}, headers=headers)
    assert r.status_code == 201, r.text
    assert len(r.json()["complaint_ids"]) == 1
    raised = await outbox(app, "ComplaintRaised", call_id=str(call_id))
    assert len(raised) == 1 and raised[0]["score"] == 2.0 and "leaks oil" in raised[0]["text"]
    assert raised[0]["product"] == "GIS-126kV" and raised[0]["response_id"] == r.json()["id"]
    detail = (await client.get(f"/follow-up-calls/{call_id}", headers=headers)).json()
    assert detail["complaints"][0]["complaint_id"] == r.json()["complaint_ids"][0]
    assert detail["complaints"][0]["issue_id"] is None


async def test_an_answer_marked_as_complaint_or_a_complaint_choice_raises_one(env, app, client):
    for answers in (
        [{"question_id": "overall", "value": 5}, {"question_id": "engineer", "value": 5},
         {"question_id": "recommend", "value": 9}, {"question_id": "on_time", "value": "yes"},
         {"question_id": "comment", "value": "the drawings were never mailed", "complaint": True}],
        [{"question_id": "overall", "value": 4}, {"question_id": "engineer", "value": 4},
         {"question_id": "recommend", "value": 9}, {"question_id": "on_time", "value": "very_late"}],
    ):
        call_id = await schedule_call(app)
        headers = await _reached(client, env, f"s-{uuid.uuid4().hex[:4]}", call_id)
        r = await client.post(f"/follow-up-calls/{call_id}/survey-responses", json={"answers": answers},
                              headers=headers)
        assert r.status_code == 201 and len(r.json()["complaint_ids"]) == 1, r.text


async def test_the_customer_answers_once_through_a_one_time_link(env, app, client):
    call_id = await schedule_call(app)
    link = await client.post(f"/follow-up-calls/{call_id}/survey-links", json={}, headers=agent(env, "s-4"))
    assert link.status_code == 201, link.text
    token = link.json()["token"]
    assert link.json()["url"].endswith(token)
    questionnaire = await client.get(f"/survey-links/{token}")
    assert questionnaire.status_code == 200 and questionnaire.json()["questionnaire_id"] == "follow-up"
    bad = await client.post(f"/survey-links/{token}/answers", json={"answers": [{"question_id": "overall",
                                                                                   "value": 0}]})
    assert bad.status_code == 422 and any(e["field"] == "answers.overall" for e in bad.json()["errors"])
    answers = [{"question_id": "overall", "value": 4}, {"question_id": "engineer", "value": 5},
               {"question_id": "recommend", "value": 9}, {"question_id": "on_time", "value": "late"}]
    ok = await client.post(f"/survey-links/{token}/answers", json={"answers": answers})
    assert ok.status_code == 201, ok.text
    assert ok.json()["channel"] == "link" and ok.json()["call_id"] == str(call_id)
    assert (await client.post(f"/survey-links/{token}/answers", json={"answers": answers})).status_code == 410
    assert (await client.get(f"/survey-links/{token}")).status_code == 410
    assert (await client.get(f"/survey-links/{'x' * 43}")).status_code == 404
    assert await outbox(app, "SurveyAnswered", call_id=str(call_id), channel="link")
    # Answered by the customer: nobody needs to phone them any more.
    call = (await client.get(f"/follow-up-calls/{call_id}", headers=agent(env, "s-4"))).json()
    assert call["status"] == "completed" and call["outcome"] == "reached"
    completed = await outbox(app, "FollowUpCallCompleted", call_id=str(call_id))
    assert len(completed) == 1 and completed[0]["agent"] is None


async def test_a_link_answer_leaves_a_call_an_agent_holds_to_that_agent(env, app, client):
    call_id = await schedule_call(app)
    holder = agent(env, "s-6")
    token = (await client.post(f"/follow-up-calls/{call_id}/survey-links", json={}, headers=holder)).json()["token"]
    await client.post(f"/follow-up-calls/{call_id}/claim", json={}, headers=holder)
    answers = [{"question_id": "overall", "value": 4}, {"question_id": "engineer", "value": 5},
               {"question_id": "recommend", "value": 9}, {"question_id": "on_time", "value": "yes"}]
    assert (await client.post(f"/survey-links/{token}/answers", json={"answers": answers})).status_code == 201
    assert (await client.get(f"/follow-up-calls/{call_id}", headers=holder)).json()["status"] == "scheduled"
    await client.post(f"/follow-up-calls/{call_id}/attempts", json={"result": "reached"}, headers=holder)
    done = await client.post(f"/follow-up-calls/{call_id}/outcome", json={"outcome": "reached"}, headers=holder)
    assert done.status_code == 201, done.text


async def test_an_expired_link_is_refused(env, app, client):
    call_id = await schedule_call(app)
    token = (await client.post(f"/follow-up-calls/{call_id}/survey-links", json={},
                               headers=agent(env, "s-5"))).json()["token"]
    app.state.clock.advance(timedelta(hours=73))
    r = await client.get(f"/survey-links/{token}")
    assert r.status_code == 410 and "expired" in r.json()["detail"]


async def test_a_new_questionnaire_version_is_validated_and_versioned(env, client):
    head = bearer(env, "department_head", "head-1")
    qid = f"training-{uuid.uuid4().hex[:6]}"
    body = {"title_zh": "培训评价", "title_en": "Training evaluation", "questions": [
        {"id": "useful", "type": "scale_1_5", "text_zh": "培训是否有用", "text_en": "Was it useful", "measure": "csat"},
        {"id": "pick", "type": "choice", "text_zh": "选择", "text_en": "Pick", "choices": [
            {"value": "a", "text_zh": "甲", "text_en": "A"}, {"value": "b", "text_zh": "乙", "text_en": "B"}]}]}
    first = await client.post(f"/questionnaires/{qid}/versions", json=body, headers=head)
    second = await client.post(f"/questionnaires/{qid}/versions", json=body, headers=head)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    broken = {**body, "questions": [{"id": "x", "type": "choice", "text_zh": "x", "text_en": "x", "measure": "nps"}]}
    r = await client.post(f"/questionnaires/{qid}/versions", json=broken, headers=head)
    assert r.status_code == 422 and "two choices" in r.text and "NPS" in r.text
    assert (await client.post(f"/questionnaires/{qid}/versions", json=body,
                              headers=agent(env, "a"))).status_code == 403


async def test_issue_events_link_the_complaint_they_name_and_update_its_state(env, app):
    """S34: the link comes from the event's declared `complaint_id`, never from the order of complaints
    (a dead-lettered IssueLogged would otherwise shift every later link)."""
    case_id, now = uuid.uuid4(), datetime(2026, 12, 2, 3, tzinfo=UTC)
    sessions = app.state.runtime.sessions
    async with transaction(sessions) as session:
        older, newer = (complaints.raise_complaint(session, case_id=case_id, call_id=None, response_id=None,
                                                   text=t, score=1.0, product="GIS", actor="a", now=now + d)
                        for t, d in (("first", timedelta(0)), ("second", timedelta(minutes=1))))
    handlers = build_handlers(app.state.settings, app.state.clock)

    async def deliver(payload) -> None:
        envelope = envelope_of(payload, "quality")
        async with transaction(sessions) as session:
            for handler in handlers.for_type(envelope.type):
                await handler(session, envelope, envelope.payload())

    def logged(issue_id, source="complaint", complaint_id=None) -> IssueLogged:
        return IssueLogged(issue_id=issue_id, case_id=case_id, product="GIS", failure_mode="x", severity="minor",
                           description="from a complaint", source=source, logged_by="qe", complaint_id=complaint_id)

    named, unnamed, onsite = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await deliver(logged(onsite, source="onsite"))
    await deliver(logged(unnamed))                              # names no complaint: links nothing
    await deliver(logged(named, complaint_id=newer.id))         # the newer one, though the older is unlinked
    await deliver(logged(named, complaint_id=newer.id))         # the same fact again
    await deliver(IssueReopened(issue_id=named, case_id=case_id, reason="alarm again", by="qe"))
    async with sessions() as session:
        first = await session.get(Complaint, older.id)
        second = await session.get(Complaint, newer.id)
    assert (second.issue_id, second.issue_state) == (named, "reopened")
    assert (first.issue_id, first.issue_state) == (None, None)
