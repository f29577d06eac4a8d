"""Notifications to people against a real SMTP server on loopback (decision 0090).

The sink is aiosmtpd (`devstack.mailsink`, the one `make run` starts); dispatch sends through the
apprise adapter. Events come through dispatch's real consumer: from its own API (the CRM push, S7) and
published on the other services' topics. The worker's clock is pinned to a site time (the customer's
contact window) and moved instead of waiting.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.mailsink import MailSink
from services.dispatch.notifications.adapters import AppriseNotifier, Notifier, OutgoingMessage
from services.dispatch.settings import DispatchSettings
from shared.events import EventEnvelope, EventPayload
from shared.events.onsite import DailyLogMissed, EngineerDeparted
from tests.integration.conftest import PinnedClock, bearer, producer, running_app, wait_async
from tests.integration.dispatch.conftest import DispatchFlow, unique

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Switchboard:
    """The worker's adapter in these tests: the real apprise adapter, except that addresses listed in
    `refused` go to a second SMTP server that refuses every mail (a failing channel)."""

    name = "test"

    def __init__(self, good: Notifier, refusing: Notifier) -> None:
        self.good, self.refusing = good, refusing
        self.refused: set[str] = set()

    async def send(self, message: OutgoingMessage) -> None:
        await (self.refusing if message.address in self.refused else self.good).send(message)


@dataclass
class Ctx:
    env: Any
    app: Any
    flow: DispatchFlow
    sink: MailSink
    clock: PinnedClock
    board: Switchboard

    @property
    def c(self):
        return self.flow.c

    async def recipient(self, role: str, region: str, address: str, language: str | None = None) -> dict:
        r = await self.c.post("/notification-recipients", headers=self.flow.d, json={
            "role": role, "region": region, "name": f"{role} {region}", "address": address, "language": language})
        assert r.status_code == 201, r.text
        return r.json()

    async def case(self, region: str, email: str | None, language: str | None = "zh") -> dict:
        contacts = {"account_manager": {"name": "Li Wei", "phone": "+86 510 1111 0001"},
                    "customer_contact": {"name": "Zhang Min", "phone": "+86 510 1111 0002", "email": email},
                    "site_interface": {"name": "Wang Fang", "phone": "+86 510 1111 0003"}}
        return await self.flow.new_case(region=region, contacts=contacts, customer_language=language)

    async def messages(self, case_id: str, **params: Any) -> list[dict]:
        r = await self.c.get("/notifications", headers=self.flow.d, params={"case_id": case_id, "limit": 200,
                                                                           **params})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def reschedule(self, case_id: str, **body: Any) -> dict:
        now = datetime.now(UTC)
        r = await self.c.post(f"/cases/{case_id}/arrival-reschedules", headers=self.flow.d, json={
            "new_arrival": (now + timedelta(days=3)).isoformat(), "reason": "crane not on site",
            "customer_notified_at": now.isoformat(), "regional_centre_notified_at": now.isoformat(), **body})
        assert r.status_code == 200, r.text
        return r.json()

    def mails(self, address: str) -> list:
        return self.sink.to(address)

    async def move(self, delta: timedelta) -> None:
        self.clock.at += delta
        self.app.state.notification_worker.wake()


def site_time(hour: int, minute: int = 0) -> datetime:
    """Today's date is irrelevant: a fixed day, at a site time in Beijing."""
    return datetime(2026, 12, 2, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture(scope="module")
async def ctx(env) -> AsyncIterator[Ctx]:
    with MailSink() as sink, MailSink(refuse=True) as refusing:
        async with running_app(env, "dispatch", notify_adapter="apprise", notify_email_url=sink.url,
                               notify_poll_seconds=0.05, notify_retry_base_seconds=60,
                               notify_max_attempts=3) as (app, client):
            worker = app.state.notification_worker
            clock = PinnedClock(site_time(10))
            worker.clock = clock.now
            good = AppriseNotifier(DispatchSettings(notify_adapter="apprise", notify_email_url=sink.url))
            bad = AppriseNotifier(DispatchSettings(notify_adapter="apprise", notify_email_url=refusing.url))
            board = Switchboard(good, bad)
            worker.notifier = board
            yield Ctx(env, app, DispatchFlow(env, client), sink, clock, board)


@pytest.fixture
def at_ten(ctx) -> Ctx:
    ctx.clock.at = site_time(10)
    return ctx


def envelope(service: str, payload: EventPayload, case_id: str, actor: str) -> EventEnvelope:
    return EventEnvelope.wrap(payload, source=f"/fieldservice/{service}", subject=case_id, actor=actor)


async def publish(env, *envelopes: tuple[str, EventEnvelope]) -> None:
    async with producer(env) as p:
        for service, e in envelopes:
            await p.send_and_wait(f"{service}.events", e.to_bytes(), key=e.subject.encode())


async def _true(value: object) -> bool:
    return bool(value)


# --- tests ----------------------------------------------------------------------------------------

async def test_the_customer_a_dispatcher_and_the_regional_centre_get_their_mails_in_zh_and_en(at_ten):
    ctx = at_ten
    region = unique("nt-demo")
    tag = region.split("-")[-1]
    customer, dispatcher = f"zhang.min.{tag}@customer.example.cn", f"dispatch.{tag}@company.example.com"
    centre, head = f"centre.{tag}@company.example.com", f"head.{tag}@company.example.com"
    await ctx.recipient("dispatcher", region, dispatcher, "en")
    await ctx.recipient("regional_centre", region, centre, "en")
    await ctx.recipient("department_head", region, head)  # no language: the default (zh)
    case = await ctx.case(region, customer, "zh")
    cid = case["id"]
    assert case["customer_language"] == "zh"

    # S1: the dispatcher is told of the new request
    await wait_async("the dispatcher's mail", lambda: _true(ctx.mails(dispatcher)))
    [new_request] = ctx.mails(dispatcher)
    assert new_request.subject.startswith(f"New service request {case['crm_reference']}")
    # S7: the customer (zh) and the regional centre (en) are told of the new arrival time
    await ctx.reschedule(cid)
    await wait_async("the customer's S7 mail", lambda: _true(ctx.mails(customer)))
    await wait_async("the centre's S7 mail", lambda: _true(ctx.mails(centre)))
    [to_customer], [to_centre] = ctx.mails(customer), ctx.mails(centre)
    assert "新到达时间" in to_customer.subject and "尊敬的客户" in to_customer.text
    assert "(Asia/Shanghai)" in to_customer.text and "crane not on site" in to_customer.text
    assert to_centre.subject.startswith(f"New arrival time for {case['crm_reference']}")
    assert "is delayed (S7)" in to_centre.text
    # S20 missed log to the dispatcher; S33 departure to the centre (en) and the department head (zh)
    visit, day = uuid.uuid4(), site_time(10).date()
    await publish(ctx.env,
                  ("onsite", envelope("onsite", DailyLogMissed(case_id=cid, visit_id=visit, engineer_id="eng-n1",
                                                               day=day), cid, "service:onsite")),
                  ("onsite", envelope("onsite", EngineerDeparted(case_id=cid, visit_id=visit, engineer_id="eng-n1",
                                                                 departed_at=datetime.now(UTC)), cid, "eng-n1")))
    await wait_async("the head's mail", lambda: _true(ctx.mails(head)))
    await wait_async("the missed log mail", lambda: _true(len(ctx.mails(dispatcher)) >= 2))
    await wait_async("the centre's S33 mail", lambda: _true(len(ctx.mails(centre)) >= 2))
    assert ctx.mails(dispatcher)[1].subject.startswith("Missed daily log: eng-n1")
    assert ctx.mails(head)[0].subject.startswith("工程师离场")

    # every message is a row: sent, with its recipient, channel, language, event and the time it went
    async def all_sent():
        rows = await ctx.messages(cid)
        return rows if len(rows) == 6 and all(r["status"] == "sent" for r in rows) else None

    rows = await wait_async("six messages sent", all_sent)
    by_address = {(r["address"], r["event_type"]): r for r in rows}
    s7 = by_address[(customer, "ArrivalRescheduled")]
    assert s7["audience"] == "customer" and s7["language"] == "zh" and s7["channel"] == "email"
    assert s7["attempts"] == 1 and s7["sent_at"] is not None and s7["last_error"] is None
    assert s7["subject"] == to_customer.subject
    assert by_address[(centre, "ArrivalRescheduled")]["language"] == "en"
    assert {r["event_type"] for r in rows} == {"ServiceRequestReceived", "ArrivalRescheduled", "DailyLogMissed",
                                               "EngineerDeparted"}
    # keyset pages like the other lists
    r = await ctx.c.get("/notifications", headers=ctx.flow.d, params={"case_id": cid, "limit": 4})
    first = r.json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    r = await ctx.c.get("/notifications", headers=ctx.flow.d,
                        params={"case_id": cid, "limit": 4, "cursor": first["next_cursor"]})
    assert len(r.json()["items"]) == 2
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in r.json()["items"]})


async def test_the_same_event_twice_tells_nobody_twice(at_ten):
    ctx = at_ten
    region = unique("nt-once")
    dispatcher = f"once.{region}@company.example.com"
    await ctx.recipient("dispatcher", region, dispatcher)
    case = await ctx.case(region, None)
    await wait_async("the S1 mail", lambda: _true(ctx.mails(dispatcher)))
    missed = envelope("onsite", DailyLogMissed(case_id=case["id"], visit_id=uuid.uuid4(), engineer_id="eng-n2",
                                               day=site_time(10).date()), case["id"], "service:onsite")
    await publish(ctx.env, ("onsite", missed), ("onsite", missed))
    await wait_async("the missed-log mail", lambda: _true(len(ctx.mails(dispatcher)) >= 2))
    again = await ctx.c.get("/notifications", headers=ctx.flow.d, params={"case_id": case["id"]})
    await asyncio.sleep(0.3)  # a second copy would be sent within the worker's next polls
    assert len(ctx.mails(dispatcher)) == 2
    assert [m["event_type"] for m in again.json()["items"]].count("DailyLogMissed") == 1


async def test_a_customer_is_contacted_only_inside_the_contact_window(ctx):
    region = unique("nt-window")
    customer, centre = f"late.{region}@customer.example.cn", f"centre.{region}@company.example.com"
    await ctx.recipient("regional_centre", region, centre, "en")
    case = await ctx.case(region, customer, "en")
    ctx.clock.at = site_time(21, 30)  # 21:30 in Beijing, 13:30 UTC
    await ctx.reschedule(case["id"])
    await wait_async("the centre's mail (staff: any time)", lambda: _true(ctx.mails(centre)))

    async def customer_row():
        rows = [r for r in await ctx.messages(case["id"]) if r["audience"] == "customer"]
        return rows[0] if rows else None

    row = await wait_async("the customer's message recorded", customer_row)
    assert row["status"] == "queued" and row["attempts"] == 0
    opens = datetime(2026, 12, 3, 8, 0, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(row["next_attempt_at"]) == opens
    await ctx.move(timedelta(hours=10))  # 07:30 next morning: still waiting
    await asyncio.sleep(0.3)
    assert ctx.mails(customer) == []
    await ctx.move(timedelta(minutes=30))  # 08:00: the window opens
    await wait_async("the customer's mail at 08:00", lambda: _true(ctx.mails(customer)))

    async def sent_row():
        found = await customer_row()
        return found if found and found["status"] == "sent" else None

    row = await wait_async("the customer's message recorded sent", sent_row)
    assert datetime.fromisoformat(row["sent_at"]) == opens
    assert ctx.mails(customer)[0].subject.startswith("New arrival time")


async def test_an_opted_out_customer_is_recorded_suppressed_and_never_sent(ctx):
    region = unique("nt-optout")
    customer = f"Quiet.{region}@Customer.example.cn"
    case = await ctx.case(region, customer, "zh")
    ctx.clock.at = site_time(22)  # outside the window: the S7 message waits queued
    await ctx.reschedule(case["id"])

    async def customer_rows():
        return [r for r in await ctx.messages(case["id"]) if r["audience"] == "customer"]

    await wait_async("the queued message", customer_rows)
    r = await ctx.c.post("/notification-opt-outs", headers=ctx.flow.d,
                         json={"address": customer, "reason": "asked on the phone", "case_id": case["id"]})
    assert r.status_code == 201, r.text
    assert r.json()["address"] == customer.lower()
    assert [x["status"] for x in await customer_rows()] == ["suppressed"]  # the queued one
    ctx.clock.at = site_time(10)
    await ctx.reschedule(case["id"], reason="second delay")  # a later event: recorded, suppressed
    await wait_async("the second message recorded", lambda: _true_len(customer_rows(), 2))
    rows = await customer_rows()
    assert [x["status"] for x in rows] == ["suppressed", "suppressed"]
    assert all(x["last_error"] == "the recipient opted out" and x["sent_at"] is None for x in rows)
    await asyncio.sleep(0.3)
    assert ctx.mails(customer.lower()) == []
    listed = await ctx.c.get("/notification-opt-outs", headers=ctx.flow.d, params={"limit": 200})
    assert customer.lower() in [o["address"] for o in listed.json()["items"]]
    # a second record of the same address answers the first
    again = await ctx.c.post("/notification-opt-outs", headers=ctx.flow.d, json={"address": customer.upper()})
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]


async def _true_len(rows_awaitable, n: int) -> bool:
    return len(await rows_awaitable) >= n


async def test_a_refusing_mail_server_is_retried_with_backoff_then_failed_and_blocks_nothing(at_ten):
    ctx = at_ten
    region = unique("nt-fail")
    broken, fine = f"broken.{region}@company.example.com", f"fine.{region}@company.example.com"
    ctx.board.refused.add(broken)
    await ctx.recipient("dispatcher", region, broken, "en")
    await ctx.recipient("dispatcher", region, fine, "en")
    case = await ctx.case(region, None)

    async def row(address: str, attempts: int):
        found = [r for r in await ctx.messages(case["id"]) if r["address"] == address]
        return found[0] if found and found[0]["attempts"] >= attempts else None

    await wait_async("the working recipient's mail", lambda: _true(ctx.mails(fine)))
    failed = await wait_async("the first failed attempt", lambda: row(broken, 1))
    assert failed["status"] == "queued" and failed["sent_at"] is None
    assert "554" in failed["last_error"] or "refused" in failed["last_error"].lower() or failed["last_error"]
    retry_at = datetime.fromisoformat(failed["next_attempt_at"])
    assert ctx.clock.at + timedelta(seconds=29) <= retry_at <= ctx.clock.at + timedelta(seconds=60)
    # other messages and the consumer go on meanwhile: a new event is recorded and sent to the other one
    missed = envelope("onsite", DailyLogMissed(case_id=case["id"], visit_id=uuid.uuid4(), engineer_id="eng-n3",
                                               day=site_time(10).date()), case["id"], "service:onsite")
    await publish(ctx.env, ("onsite", missed))
    await wait_async("the second mail to the working one", lambda: _true(len(ctx.mails(fine)) >= 2))

    async def both_tried():
        rows = [r for r in await ctx.messages(case["id"]) if r["address"] == broken]
        return rows if len(rows) == 2 and all(r["attempts"] >= 1 for r in rows) else None

    # the clock moves only once the second message was tried too, or its retries fall behind the moves
    await wait_async("the second message's first failed attempt", both_tried)
    await ctx.move(timedelta(minutes=2))
    second = await wait_async("the second attempt", lambda: row(broken, 2))
    assert second["status"] == "queued"
    await ctx.move(timedelta(minutes=5))

    async def finally_failed():
        rows = [r for r in await ctx.messages(case["id"]) if r["address"] == broken]
        return rows if rows and all(r["status"] == "failed" for r in rows) else None

    rows = await wait_async("both messages failed after three attempts", finally_failed, timeout=20)
    assert all(r["attempts"] == 3 and r["last_error"] and r["sent_at"] is None for r in rows)
    assert ctx.mails(broken) == []
    metrics = (await ctx.c.get("/metrics")).text
    assert 'notifications_total{channel="email",outcome="failed",service="dispatch"}' in metrics
    assert 'notifications_total{channel="email",outcome="sent",service="dispatch"}' in metrics


async def test_who_may_read_and_keep_them(at_ten):
    ctx = at_ten
    region = unique("nt-roles")
    engineer = bearer(ctx.env, "engineer", "eng-x")
    assert (await ctx.c.get("/notifications", headers=engineer)).status_code == 403
    assert (await ctx.c.post("/notification-recipients", headers=engineer, json={
        "role": "dispatcher", "name": "x", "address": "x@example.com"})).status_code == 403
    # a regional centre reads its own region's messages only
    await ctx.recipient("dispatcher", region, f"roles.{region}@company.example.com")
    own = await ctx.case(region, None)
    other = await ctx.case(unique("nt-roles-other"), None)
    await wait_async("a message of its region", lambda: _true(ctx.mails(f"roles.{region}@company.example.com")))
    centre = bearer(ctx.env, "regional_centre", "centre-1", region=region)
    mine = (await ctx.c.get("/notifications", headers=centre, params={"case_id": own["id"]})).json()["items"]
    theirs = (await ctx.c.get("/notifications", headers=centre, params={"case_id": other["id"]})).json()["items"]
    assert mine and theirs == []
    # the directory refuses customers and arbitrary URLs
    r = await ctx.c.post("/notification-recipients", headers=ctx.flow.d, json={
        "role": "customer", "name": "x", "address": "x@example.com"})
    assert r.status_code == 422
    r = await ctx.c.post("/notification-recipients", headers=ctx.flow.d, json={
        "role": "dispatcher", "name": "x", "address": "json://10.0.0.1/hook"})
    assert r.status_code == 422 and "address" in r.text
    wecom = await ctx.recipient("regional_centre", region, "wecombot://BOTKEY")
    assert wecom["channel"] == "wecom"
    r = await ctx.c.patch(f"/notification-recipients/{wecom['id']}", headers=ctx.flow.d, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await ctx.c.delete(f"/notification-recipients/{wecom['id']}", headers=ctx.flow.d)).status_code == 204


# --- S7: the system informs, and the gate is met by its messages ----------------------------------

async def test_s7_with_inform_moves_the_arrival_once_both_messages_are_sent_with_their_sent_times(ctx):
    region = unique("nt-inform")
    customer, centre = f"inform.{region}@customer.example.cn", f"centre.{region}@company.example.com"
    await ctx.recipient("regional_centre", region, centre, "en")
    case = await ctx.case(region, customer, "zh")
    cid = case["id"]
    new_arrival = datetime.now(UTC) + timedelta(days=3)
    ctx.clock.at = site_time(20, 29)  # after 20:00: the customer's message waits
    r = await ctx.c.post(f"/cases/{cid}/arrival-reschedules", headers=ctx.flow.d, json={
        "new_arrival": new_arrival.isoformat(), "reason": "crane not on site", "inform": True})
    assert r.status_code == 202, r.text
    pending = r.json()
    assert pending["status"] == "informing" and len(pending["notification_ids"]) == 2
    assert r.headers["location"] == f"/cases/{cid}/arrival-reschedules/{pending['id']}"
    await wait_async("the centre told at once", lambda: _true(ctx.mails(centre)))

    async def state():
        got = await ctx.c.get(f"/cases/{cid}/arrival-reschedules/{pending['id']}", headers=ctx.flow.d)
        assert got.status_code == 200, got.text
        return got.json()

    await asyncio.sleep(0.3)
    assert (await state())["status"] == "informing"  # the customer is not told yet: nothing moved
    timeline = (await ctx.c.get(f"/cases/{cid}/timeline", headers=ctx.flow.d, params={"limit": 200})).json()
    assert "ArrivalRescheduled" not in [e["event_type"] for e in timeline["items"]]
    await ctx.move(timedelta(hours=12))  # 08:29 next morning: inside the window

    async def applied():
        found = await state()
        return found if found["status"] == "applied" else None

    done = await wait_async("the reschedule applied", applied)
    assert datetime.fromisoformat(done["customer_notified_at"]) == ctx.clock.at  # the real sent time
    assert datetime.fromisoformat(done["regional_centre_notified_at"]) == site_time(20, 29)
    rows = {r["audience"]: r for r in await ctx.messages(cid) if r["event_type"] == "ArrivalRescheduled"}
    assert datetime.fromisoformat(rows["customer"]["sent_at"]) == datetime.fromisoformat(done["customer_notified_at"])

    async def rescheduled_event():
        items = (await ctx.c.get(f"/cases/{cid}/timeline", headers=ctx.flow.d,
                                 params={"limit": 200})).json()["items"]
        return [e for e in items if e["event_type"] == "ArrivalRescheduled"]

    [event] = await wait_async("ArrivalRescheduled on the timeline", rescheduled_event)
    assert event["data"]["informed_by_system"] is True
    assert datetime.fromisoformat(event["data"]["customer_notified_at"]) == ctx.clock.at
    got = (await ctx.c.get(f"/cases/{cid}", headers=ctx.flow.d)).json()
    assert datetime.fromisoformat(got["planned_start"]) == new_arrival
    await asyncio.sleep(0.3)  # the event tells nobody again: one mail each
    assert len(ctx.mails(customer)) == 1 and len(ctx.mails(centre)) == 1
    assert "新到达时间" in ctx.mails(customer)[0].subject


async def test_s7_with_inform_is_refused_when_the_system_cannot_reach_both(at_ten):
    ctx = at_ten
    region = unique("nt-inform-none")
    case = await ctx.case(region, "someone@customer.example.cn")  # no regional centre recipient for the region
    r = await ctx.c.post(f"/cases/{case['id']}/arrival-reschedules", headers=ctx.flow.d, json={
        "new_arrival": (datetime.now(UTC) + timedelta(days=3)).isoformat(), "reason": "r", "inform": True})
    assert r.status_code == 409, r.text
    assert any("regional centre" in m for m in r.json()["missing_conditions"])
    assert await ctx.messages(case["id"]) == [] or all(
        m["event_type"] != "ArrivalRescheduled" for m in await ctx.messages(case["id"]))
    both = await ctx.c.post(f"/cases/{case['id']}/arrival-reschedules", headers=ctx.flow.d, json={
        "new_arrival": (datetime.now(UTC) + timedelta(days=3)).isoformat(), "reason": "r", "inform": True,
        "customer_notified_at": datetime.now(UTC).isoformat()})
    assert both.status_code == 422
