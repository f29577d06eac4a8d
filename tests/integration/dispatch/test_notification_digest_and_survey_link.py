"""Notifications, the rest of issue 14 (decision 0090): S34's survey link reaching the customer without its token
being stored on the timeline, in webhook bodies, in the outbox or in the message list; S20's daily-log digest
for the service department, once per region and closed site day; the retention of messages.

Against a real SMTP sink on loopback (`devstack.mailsink`); the worker's clock is pinned to a site time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from devstack.mailsink import MailSink
from services.dispatch.notifications import periodic
from services.dispatch.notifications.models import Notification
from shared.db import transaction
from shared.events import EventEnvelope, EventPayload
from shared.events.onsite import DailyLogMissed, DailyLogSubmitted
from shared.messaging.tables import OutboxMessage
from tests.integration.conftest import PinnedClock, bearer, running_app, wait_async
from tests.integration.dispatch.conftest import DispatchFlow, publish, unique
from tests.integration.feedback.conftest import agent, schedule_call

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")


def site_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


DAY = date(2026, 12, 2)  # a fixed site day: nothing here depends on today's date


@pytest.fixture(scope="module")
async def apps(env) -> AsyncIterator[dict[str, Any]]:
    with MailSink() as sink:
        async with running_app(env, "dispatch", notify_adapter="apprise", notify_email_url=sink.url,
                               notify_poll_seconds=0.05, webhook_allowed_hosts=["127.0.0.1/32"],
                               webhook_worker_enabled=False) as (dispatch, client), \
                running_app(env, "feedback", survey_link_base_url="http://feedback.test/survey-links") as (
                    feedback, feedback_client):
            clock = PinnedClock(site_time(DAY, 10))
            dispatch.state.notification_worker.clock = clock.now
            yield {"env": env, "dispatch": dispatch, "c": client, "feedback": feedback, "fc": feedback_client,
                   "sink": sink, "clock": clock, "flow": DispatchFlow(env, client)}


def envelope(service: str, payload: EventPayload, case_id: str, actor: str,
             at: datetime | None = None) -> EventEnvelope:
    wrapped = EventEnvelope.wrap(payload, source=f"/fieldservice/{service}", subject=case_id, actor=actor)
    return wrapped if at is None else wrapped.model_copy(update={"time": at})


async def test_the_customer_gets_a_working_survey_link_whose_token_is_stored_nowhere(apps):
    flow, c, sink = apps["flow"], apps["c"], apps["sink"]
    region = unique("s34")
    customer = f"li.na.{region.split('-')[-1]}@customer.example.cn"
    contacts = {"account_manager": {"name": "Li Wei", "phone": "+86 510 1111 0001"},
                "customer_contact": {"name": "Li Na", "phone": "+86 510 1111 0002", "email": customer},
                "site_interface": {"name": "Wang Fang", "phone": "+86 510 1111 0003"}}
    case = await flow.new_case(region=region, contacts=contacts, customer_language="en")
    admin = bearer(apps["env"], "integration_admin", "integrator-1")
    r = await c.post("/webhook-subscriptions", headers=admin, json={
        "url": "https://127.0.0.1:9/hooks/s34", "event_types": ["SurveyLinkIssued"], "region": region})
    assert r.status_code == 201, r.text

    # S34: the agent has feedback send the link (the consumer of dispatch takes SurveyLinkIssued)
    call_id = await schedule_call(apps["feedback"], case_id=uuid.UUID(case["id"]), region=region)
    r = await apps["fc"].post(f"/follow-up-calls/{call_id}/survey-links", json={"send_to_customer": True},
                              headers=agent(apps["env"], "s34-agent"))
    assert r.status_code == 201, r.text
    token = r.json()["token"]

    def survey_mails() -> list:
        return [m for m in sink.to(customer) if m.subject.startswith("Your opinion of our service")]

    await wait_async("the customer's survey mail", lambda: _true(survey_mails()))
    [mail] = survey_mails()  # (besides the S34 mail that the call is coming)
    [link] = re.findall(r"http://feedback\.test/survey-links/\S+", mail.text)
    assert link.endswith(token)
    # the link works: the survey endpoint answers with the questionnaire
    page = await apps["fc"].get(link.removeprefix("http://feedback.test"))
    assert page.status_code == 200 and page.json()["questionnaire_id"] == "follow-up"
    assert mail.message["Message-ID"].startswith("<notification-")

    # ... and the token is stored nowhere else: not on the timeline, not in the webhook body, not in the
    # message list nor beside the sent message, not in feedback's outbox once published
    timeline = await c.get(f"/cases/{case['id']}/timeline", headers=flow.d, params={"limit": 200})
    issued = [e for e in timeline.json()["items"] if e["event_type"] == "SurveyLinkIssued"]
    assert issued and issued[0]["data"]["url"] == "[redacted]" and token not in timeline.text
    async with apps["dispatch"].state.runtime.sessions() as session:
        bodies = (await session.execute(text("SELECT body FROM webhook_event WHERE case_id = :c"),
                                        {"c": case["id"]})).scalars().all()
        stored = (await session.execute(select(Notification).where(Notification.case_id == case["id"],
                                                                   Notification.event_type == "SurveyLinkIssued"))
                  ).scalar_one()
    assert any("SurveyLinkIssued" in b for b in bodies) and not any(token in b for b in bodies)
    assert stored.status == "sent" and stored.secrets is None and token not in stored.body
    listed = await c.get("/notifications", headers=flow.d, params={"case_id": case["id"]})
    assert "⟦url⟧" in listed.text and token not in listed.text

    async def outbox_forgot() -> bool:
        async with apps["feedback"].state.runtime.sessions() as session:
            rows = (await session.execute(select(OutboxMessage).where(
                OutboxMessage.event_type == "SurveyLinkIssued", OutboxMessage.aggregate_id == case["id"]))).scalars()
            payloads = [r.payload for r in rows if r.sent_at is not None]
        return bool(payloads) and all(p["data"]["url"] == "[redacted]" for p in payloads)

    await wait_async("the outbox to forget the link", outbox_forgot)


async def test_the_service_department_gets_one_digest_per_region_and_closed_site_day(apps):
    flow, sink, dispatch = apps["flow"], apps["sink"], apps["dispatch"]
    region = unique("s20")
    department = f"service.{region.split('-')[-1]}@company.example.com"
    r = await flow.c.post("/notification-recipients", headers=flow.d, json={
        "role": "service_department", "region": region, "name": "Service department", "address": department,
        "language": "en"})
    assert r.status_code == 201, r.text
    first, second = await flow.new_case(region=region), await flow.new_case(region=region)
    visit = uuid.uuid4()
    facts = [
        ("onsite", envelope("onsite", DailyLogSubmitted(
            case_id=first["id"], visit_id=visit, engineer_id="eng-d1", day=DAY, work_done="Bay 3 wired",
            progress="60 %", problems="crane late"), first["id"], "eng-d1", site_time(DAY, 18))),
        ("onsite", envelope("onsite", DailyLogMissed(case_id=first["id"], visit_id=visit, engineer_id="eng-d2",
                                                     day=DAY), first["id"], "service:onsite", site_time(DAY, 23))),
        ("onsite", envelope("onsite", DailyLogSubmitted(
            case_id=second["id"], visit_id=uuid.uuid4(), engineer_id="eng-d3", day=DAY, work_done="Tests passed",
            progress="done"), second["id"], "eng-d3", site_time(DAY, 19))),
        # another day: not in this digest
        ("onsite", envelope("onsite", DailyLogSubmitted(
            case_id=second["id"], visit_id=uuid.uuid4(), engineer_id="eng-d3", day=DAY - timedelta(days=9),
            work_done="earlier", progress="-"), second["id"], "eng-d3", site_time(DAY - timedelta(days=9), 19))),
    ]
    await publish(apps["env"], *facts)

    async def on_timelines() -> bool:
        async with dispatch.state.runtime.sessions() as session:
            n = (await session.execute(text("SELECT count(*) FROM case_event WHERE case_id IN (:a, :b) AND "
                                            "event_type LIKE 'DailyLog%'"), {"a": first["id"], "b": second["id"]}))
            return n.scalar_one() == 4

    await wait_async("the logs on the timelines", on_timelines)
    settings = dispatch.state.notification_worker.settings

    async def run_job(at: datetime) -> int:
        async with transaction(dispatch.state.runtime.sessions) as session:
            return await periodic.queue_daily_digests(session=session, now=at, settings=settings)

    # by default no message per log; the day is not closed at 23:59, nor before the delay after midnight
    assert not sink.to(department)
    assert await run_job(site_time(DAY, 23, 59)) == 0
    assert await run_job(site_time(DAY + timedelta(days=1), 0, 30)) == 0
    closed = site_time(DAY + timedelta(days=1), 1, 5)
    apps["clock"].at = closed
    assert await run_job(closed) == 1
    dispatch.state.notification_worker.wake()
    await wait_async("the digest mail", lambda: _true(sink.to(department)))
    [mail] = sink.to(department)
    assert mail.subject == f"Daily logs of {DAY.isoformat()}, region {region}: 2 logs, 1 missed"
    body = mail.text
    for expected in (first["crm_reference"], second["crm_reference"], "eng-d1", "Bay 3 wired", "60 %", "crane late",
                     "Missed logs: eng-d2", "Tests passed", "2 cases, 3 engineers"):
        assert expected in body, (expected, body)
    assert "earlier" not in body
    # once: the job runs again (and on another replica) without a second message
    assert await run_job(closed + timedelta(minutes=5)) == 0
    assert await run_job(closed + timedelta(days=1)) == 0
    assert len(sink.to(department)) == 1


async def test_messages_older_than_the_retention_are_deleted_with_their_personal_data(apps):
    dispatch = apps["dispatch"]
    settings = dispatch.state.notification_worker.settings
    now = site_time(DAY, 12)
    tag = unique("ret")
    ids = {name: uuid.uuid4() for name in ("old_sent", "old_queued", "recent")}
    created = {"old_sent": now - timedelta(days=401), "old_queued": now - timedelta(days=401),
               "recent": now - timedelta(days=399)}
    async with transaction(dispatch.state.runtime.sessions) as session:
        for name, id_ in ids.items():
            session.add(Notification(
                id=id_, event_id=uuid.uuid4(), event_type="ServiceDispatched", case_id=tag, audience="customer",
                address=f"{name}@customer.example.cn", recipient_name="Li Na", channel="email", language="zh",
                template="service_dispatched", subject="s", body="b", created_at=created[name],
                next_attempt_at=created[name], status="queued" if name == "old_queued" else "sent"))
    async with transaction(dispatch.state.runtime.sessions) as session:
        assert await periodic.purge_old_messages(session=session, now=now, settings=settings) >= 1
    async with dispatch.state.runtime.sessions() as session:
        left = set((await session.execute(select(Notification.id).where(Notification.case_id == tag))).scalars())
        assert left == {ids["old_queued"], ids["recent"]}
        # 0 days keeps everything
        kept = settings.model_copy(update={"notify_retention_days": 0})
        assert await periodic.purge_old_messages(session=session, now=now + timedelta(days=999), settings=kept) == 0
        assert (await session.execute(select(func.count()).select_from(Notification)
                                      .where(Notification.case_id == tag))).scalar_one() == 2


async def _true(value: object) -> bool:
    return bool(value)
