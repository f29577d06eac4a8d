"""Outbound webhooks against a real receiver on loopback (decision 0083).

The receiver is a Starlette app under uvicorn in the test's event loop; it verifies every request
with the `standardwebhooks` library unmodified (`Webhook(secret).verify(body, headers)`). Events
come from the CRM push and from the other services' topics through dispatch's real consumer; the
worker's clock is moved (hours, days) instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from devstack.servers import free_port
from services.dispatch.cases.models import CaseEvent
from services.dispatch.webhooks.service import Claimed
from services.dispatch.webhooks.worker import WebhookWorker
from shared.events import EventEnvelope
from shared.events.feedback import FollowUpCallScheduled
from shared.events.onsite import EngineerCheckedIn, EngineerCheckedOut, MilestoneReached, TechnicalBriefingHeld
from shared.events.quality import IssueLogged
from tests.integration.conftest import bearer, running_app, wait_async
from tests.integration.dispatch.conftest import DispatchFlow, envelope, publish, unique

pytestmark = pytest.mark.integration


# --- the receiver ---------------------------------------------------------------------------------

@dataclass
class Endpoint:
    """One receiving URL: verifies with `secret`, answers `status` (or what `answer` says), records what it
    accepted."""

    secret: str | None = None
    also_verify_with: str | None = None  # a second secret (rotation): is the request valid under it too?
    status: int = 200  # a 5xx while the receiver is down
    answer: Callable[[dict[str, Any]], Awaitable[int]] | None = None
    received: list[dict[str, Any]] = field(default_factory=list)  # accepted (2xx) envelopes, in arrival order
    requests: int = 0
    rejected: list[str] = field(default_factory=list)  # verification failures
    second_secret_valid: list[bool] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def for_case(self, case_id: str) -> list[str]:
        return [e["type"] for e in self.received if e["subject"] == case_id]


class Receiver:
    """An HTTP server on 127.0.0.1 with one path per endpoint: /hooks/<name>."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.raw: dict[str, Callable[[Request], Awaitable[Response]]] = {}  # /raw/<name>: any answer
        self.raw_hits: list[str] = []
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def endpoint(self, name: str) -> tuple[Endpoint, str]:
        self.endpoints[name] = ep = Endpoint()
        return ep, f"{self.base}/hooks/{name}"

    async def handle(self, request: Request) -> Response:
        ep = self.endpoints.get(request.path_params["name"])
        if ep is None or ep.secret is None:
            return Response(status_code=404)
        body = await request.body()
        headers = dict(request.headers)
        ep.requests += 1
        try:
            envelope = Webhook(ep.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            ep.rejected.append(str(exc))
            return Response(status_code=400)
        if ep.also_verify_with is not None:
            try:
                Webhook(ep.also_verify_with).verify(body, headers)
                ep.second_secret_valid.append(True)
            except WebhookVerificationError:
                ep.second_secret_valid.append(False)
        status = await ep.answer(envelope) if ep.answer is not None else ep.status
        if 200 <= status < 300:
            ep.received.append(envelope)
            ep.headers.append(headers)
        return Response(status_code=status)

    async def handle_raw(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.raw_hits.append(name)
        return await self.raw[name](request)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Receiver]:
        app = Starlette(routes=[Route("/hooks/{name}", self.handle, methods=["POST"]),
                                Route("/raw/{name}", self.handle_raw, methods=["POST", "GET"])])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                               lifespan="off"))
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # the test runner's
        task = asyncio.create_task(server.serve())
        await wait_async("the receiver to listen", lambda: _true(server.started), timeout=10)
        try:
            yield self
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)


async def _true(value: object) -> bool:
    return bool(value)


# --- the clock of the worker ----------------------------------------------------------------------

class ShiftedClock:
    """The wall clock moved forward by `offset` (the tests advance it; webhook-timestamp stays real)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


# --- fixtures -------------------------------------------------------------------------------------

@dataclass
class Ctx:
    env: Any
    app: Any
    flow: DispatchFlow
    receiver: Receiver
    clock: ShiftedClock
    admin: dict[str, str]

    @property
    def c(self):
        return self.flow.c

    async def subscribe(self, name: str, *, region: str, event_types: list[str] | None = None,
                        **body: Any) -> tuple[dict, Endpoint]:
        ep, url = self.receiver.endpoint(name)
        r = await self.c.post("/webhook-subscriptions", headers=self.admin,
                              json={"url": url, "event_types": event_types, "region": region, **body})
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["secret"].startswith("whsec_")
        ep.secret = created["secret"]
        return created, ep

    async def new_case(self, region: str) -> str:
        case = await self.flow.new_case(region=region)
        return case["id"]

    async def attempts(self, subscription_id: str, **params: Any) -> list[dict]:
        r = await self.c.get(f"/webhook-subscriptions/{subscription_id}/attempts", headers=self.admin,
                             params={"limit": 200, **params})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def deliveries(self, subscription_id: str, **params: Any) -> list[dict]:
        r = await self.c.get(f"/webhook-subscriptions/{subscription_id}/deliveries", headers=self.admin,
                             params={"limit": 200, **params})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def tick(self, delta: timedelta) -> None:
        """Move the worker's clock and give it a moment (it polls every 50 ms)."""
        self.clock.advance(delta)
        await asyncio.sleep(0.3)


@pytest.fixture(scope="module")
async def ctx(env) -> AsyncIterator[Ctx]:
    receiver = Receiver()
    async with receiver.running(), running_app(
        env, "dispatch", webhook_allowed_hosts=["127.0.0.1/32"], webhook_poll_seconds=0.05,
        webhook_timeout_seconds=8, webhook_retry_base_seconds=120,
    ) as (app, client):
        clock = ShiftedClock()
        app.state.webhook_worker.clock = clock.now
        flow = DispatchFlow(env, client)
        yield Ctx(env, app, flow, receiver, clock, bearer(env, "integration_admin", "integrator-1"))


@pytest.fixture
async def cleanup(ctx) -> AsyncIterator[list[str]]:
    """Each test starts on the wall clock; the subscriptions it creates are deleted after it (with their
    deliveries: no later test's events go to them)."""
    ctx.clock.offset = timedelta(0)
    created: list[str] = []
    yield created
    for sid in created:
        await ctx.c.delete(f"/webhook-subscriptions/{sid}", headers=ctx.admin)


def onsite_day(case_id: str) -> list[tuple[str, EventEnvelope]]:
    """Four onsite events of one case (one topic, one partition: recorded in this order)."""
    now, visit, eng = datetime.now(UTC), uuid.uuid4(), "eng-wh"
    v = {"case_id": case_id, "visit_id": visit}
    payloads = [
        TechnicalBriefingHeld(**v, briefing_id=uuid.uuid4(), held_at=now, held_by=eng),
        EngineerCheckedIn(**v, engineer_id=eng, day=now.date(), at=now, latitude=31.5, longitude=120.3),
        MilestoneReached(**v, milestone_id=uuid.uuid4(), title="bays assembled", reached_at=now),
        EngineerCheckedOut(**v, engineer_id=eng, day=now.date(), at=now, latitude=31.5, longitude=120.3),
    ]
    return [("onsite", envelope("onsite", p, case_id, eng)) for p in payloads]


ONSITE_TYPES = ["TechnicalBriefingHeld", "EngineerCheckedIn", "MilestoneReached", "EngineerCheckedOut"]


# --- tests ----------------------------------------------------------------------------------------

async def test_events_of_a_case_from_all_four_services_arrive_in_order_signed(ctx, cleanup):
    region = unique("wh-order")
    sub, ep = await ctx.subscribe("order", region=region)
    cleanup.append(sub["id"])
    cid = await ctx.new_case(region)
    await wait_async("the dispatch events", lambda: _true(len(ep.for_case(cid)) >= 2))
    await publish(ctx.env, *onsite_day(cid))
    await wait_async("the onsite events", lambda: _true(len(ep.for_case(cid)) >= 6))
    issue = IssueLogged(issue_id=uuid.uuid4(), case_id=cid, product="GIS bay", failure_mode="gas-leak",
                        severity="major", description="SF6 density low", logged_by="eng-wh")
    await publish(ctx.env, ("quality", envelope("quality", issue, cid, "qe-1")))
    await wait_async("the quality event", lambda: _true(len(ep.for_case(cid)) >= 7))
    call = FollowUpCallScheduled(case_id=cid, call_id=uuid.uuid4(), reason="service_completed",
                                 due_at=datetime.now(UTC))
    await publish(ctx.env, ("feedback", envelope("feedback", call, cid, "agent-1")))
    await wait_async("the feedback event", lambda: _true(len(ep.for_case(cid)) >= 8))

    assert ep.for_case(cid) == ["ServiceRequestReceived", "ServiceRequestAcknowledged", *ONSITE_TYPES,
                                "IssueLogged", "FollowUpCallScheduled"]
    assert ep.rejected == []
    # the body is the CloudEvents envelope; webhook-id is the event id
    assert {e["source"] for e in ep.received} == {f"/fieldservice/{s}" for s in
                                                   ("dispatch", "onsite", "quality", "feedback")}
    assert all(e["specversion"] == "1.0" and e["subject"] == cid for e in ep.received)
    assert [h["webhook-id"] for h in ep.headers] == [e["id"] for e in ep.received]
    assert all(h["content-type"].startswith("application/cloudevents+json") for h in ep.headers)
    assert all(len(h["webhook-signature"].split(" ")) == 1 for h in ep.headers)
    # another region's case is not sent; an event type filter is honoured
    other = await ctx.new_case(unique("wh-other"))
    typed, typed_ep = await ctx.subscribe("typed", region=region, event_types=["MilestoneReached"])
    cleanup.append(typed["id"])
    await publish(ctx.env, *onsite_day(cid))
    await wait_async("the typed subscription", lambda: _true(typed_ep.for_case(cid)))
    await wait_async("the second day", lambda: _true(len(ep.for_case(cid)) >= 12))
    assert typed_ep.for_case(cid) == ["MilestoneReached"]
    assert not ep.for_case(other)
    # the delivery log: one attempt per event, 200, with its latency (recorded once the answer is in)
    async def full_log():
        found = await ctx.attempts(sub["id"])
        return found if len(found) >= 12 else None

    log = await wait_async("the delivery log", full_log)
    assert len(log) == 12 and all(a["status_code"] == 200 and a["outcome"] == "delivered" for a in log)
    assert all(a["latency_ms"] >= 0 and a["error"] is None for a in log)


async def test_a_receiver_failing_for_hours_then_back_gets_every_event_once_in_order(ctx, cleanup):
    region = unique("wh-retry")
    sub, ep = await ctx.subscribe("retry", region=region)
    ep.status = 500
    cleanup.append(sub["id"])
    cid = await ctx.new_case(region)
    await wait_async("the dispatch events queued", lambda: _true_async(ctx.deliveries(sub["id"]), 2))
    await publish(ctx.env, *onsite_day(cid))

    async def first_failed():
        return [a for a in await ctx.attempts(sub["id"]) if a["status_code"] == 500]

    await wait_async("the first failed attempt", first_failed)
    # only the case's first event was tried: the later ones wait for it
    await wait_async("all six deliveries queued",
                     lambda: _true_async(ctx.deliveries(sub["id"], status="pending"), 6))
    log = await ctx.attempts(sub["id"])
    assert len(log) == 1 and log[0]["outcome"] == "failed" and log[0]["error"] == "the receiver answered 500"
    pending = await ctx.deliveries(sub["id"], status="pending")
    assert all(d["attempts"] == 0 for d in pending if d["event_type"] != "ServiceRequestReceived")

    for n in range(2, 5):  # three hours down: one more failed attempt per hour, backoff between
        await ctx.tick(timedelta(hours=1))
        await wait_async("a retry recorded", lambda n=n: _true_async(ctx.attempts(sub["id"]), n))
    assert ep.received == []
    ep.status = 200
    await ctx.tick(timedelta(hours=1))
    await wait_async("everything delivered", lambda: _true(len(ep.for_case(cid)) >= 6))
    await wait_async("every delivery recorded", lambda: _true_async(ctx.deliveries(sub["id"], status="delivered"), 6))
    await asyncio.sleep(0.3)  # nothing more arrives

    assert ep.for_case(cid) == ["ServiceRequestReceived", "ServiceRequestAcknowledged", *ONSITE_TYPES]
    assert len({e["id"] for e in ep.received}) == len(ep.received) == 6  # once each
    log = await ctx.attempts(sub["id"])
    assert [a["status_code"] for a in log] == [500] * 4 + [200] * 6
    assert [a["attempt"] for a in log[:5]] == [1, 2, 3, 4, 5]
    delivered = await ctx.deliveries(sub["id"], status="delivered")
    assert len(delivered) == 6
    # the log pages like other lists
    r = await ctx.c.get(f"/webhook-subscriptions/{sub['id']}/attempts", headers=ctx.admin, params={"limit": 4})
    page = r.json()
    assert len(page["items"]) == 4 and page["next_cursor"]
    r = await ctx.c.get(f"/webhook-subscriptions/{sub['id']}/attempts", headers=ctx.admin,
                        params={"limit": 200, "cursor": page["next_cursor"]})
    assert [a["id"] for a in page["items"] + r.json()["items"]] == [a["id"] for a in log]
    sub_now = (await ctx.c.get(f"/webhook-subscriptions/{sub['id']}", headers=ctx.admin)).json()
    assert sub_now["failing_since"] is None and sub_now["last_success_at"] and sub_now["enabled"]


async def _true_async(awaitable: Awaitable[list], count: int) -> bool:
    return len(await awaitable) >= count


async def test_dead_lettered_after_the_retry_window_then_redriven(ctx, cleanup):
    region = unique("wh-dead")
    sub, ep = await ctx.subscribe("dead", region=region)
    ep.status = 503
    cleanup.append(sub["id"])
    since = datetime.now(UTC)
    cid = await ctx.new_case(region)
    await wait_async("the first attempt recorded", lambda: _true_async(ctx.attempts(sub["id"]), 1))
    await wait_async("both deliveries queued", lambda: _true_async(ctx.deliveries(sub["id"]), 2))
    await ctx.tick(timedelta(hours=25))  # past the 24 h window: each is dead-lettered at its next attempt
    await wait_async("both dead-lettered", lambda: _true_async(ctx.deliveries(sub["id"], status="dead_lettered"), 2))
    dead = await ctx.deliveries(sub["id"], status="dead_lettered")
    assert [d["event_type"] for d in dead] == ["ServiceRequestReceived", "ServiceRequestAcknowledged"]
    assert all(d["dead_lettered_at"] and d["last_status_code"] == 503 for d in dead)
    assert (await ctx.attempts(sub["id"]))[-1]["outcome"] == "dead_lettered"

    ep.status = 204
    r = await ctx.c.post(f"/webhook-subscriptions/{sub['id']}/deliveries/{dead[0]['id']}/redrive", headers=ctx.admin)
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    await wait_async("the redriven delivery", lambda: _true(ep.for_case(cid)))
    r = await ctx.c.post(f"/webhook-subscriptions/{sub['id']}/deliveries/{dead[0]['id']}/redrive", headers=ctx.admin)
    await wait_async("delivered again on request", lambda: _true(len(ep.for_case(cid)) >= 2))
    r = await ctx.c.post(f"/webhook-subscriptions/{sub['id']}/redrive", headers=ctx.admin,
                         json={"since": since.isoformat()})
    assert r.status_code == 200 and r.json() == {"redriven": 1}, r.text
    await wait_async("the rest", lambda: _true(len(ep.for_case(cid)) >= 3))
    assert ep.for_case(cid) == ["ServiceRequestReceived", "ServiceRequestReceived", "ServiceRequestAcknowledged"]
    assert len({h["webhook-id"] for h in ep.headers}) == 2  # the same webhook-id when sent again
    r = await ctx.c.post(f"/webhook-subscriptions/{sub['id']}/redrive", headers=ctx.admin,
                         json={"since": "yesterday"})
    assert r.status_code == 422


async def test_rotation_both_secrets_verify_during_the_grace_period(ctx, cleanup):
    region = unique("wh-rotate")
    sub, ep = await ctx.subscribe("rotate", region=region)
    cleanup.append(sub["id"])
    old = ep.secret
    r = await ctx.c.post(f"/webhook-subscriptions/{sub['id']}/secret-rotation", headers=ctx.admin,
                         json={"grace_hours": 2})
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new.startswith("whsec_") and new != old and r.json()["previous_secret_expires_at"]
    ep.secret, ep.also_verify_with = new, old  # the receiver moved to the new secret; does the old still verify?
    read = (await ctx.c.get(f"/webhook-subscriptions/{sub['id']}", headers=ctx.admin)).json()
    assert "secret" not in read and read["previous_secret_expires_at"]

    cid = await ctx.new_case(region)
    await wait_async("the events during the grace period", lambda: _true(len(ep.for_case(cid)) >= 2))
    assert ep.second_secret_valid == [True, True]
    assert all(len(h["webhook-signature"].split(" ")) == 2 for h in ep.headers)

    await ctx.tick(timedelta(hours=3))  # the grace period is over
    await publish(ctx.env, *onsite_day(cid)[:1])
    await wait_async("an event after the grace period", lambda: _true(len(ep.for_case(cid)) >= 3))
    assert ep.second_secret_valid == [True, True, False]
    assert len(ep.headers[-1]["webhook-signature"].split(" ")) == 1
    assert ep.rejected == []


async def test_a_slow_subscriber_does_not_delay_another_nor_the_timeline(ctx, cleanup):
    region = unique("wh-slow")

    async def slow(_envelope: dict) -> int:
        await asyncio.sleep(2)
        return 200

    slow_sub, slow_ep = await ctx.subscribe("slow", region=region)
    slow_ep.answer = slow
    fast_sub, fast_ep = await ctx.subscribe("fast", region=region)
    cleanup.extend([slow_sub["id"], fast_sub["id"]])
    cases = [await ctx.new_case(region) for _ in range(3)]
    for cid in cases:
        await wait_async("the dispatch events", lambda c=cid: _true(len(fast_ep.for_case(c)) >= 2))
        await publish(ctx.env, *onsite_day(cid))
    await wait_async("the fast subscriber's 18 events",
                     lambda: _true(sum(len(fast_ep.for_case(c)) for c in cases) >= 18), timeout=5)
    # the slow one answers each case's events one after another, 2 s each: 12 s at least for all
    assert sum(len(slow_ep.for_case(c)) for c in cases) < 18
    async with ctx.app.state.sessions() as session:
        recorded = (await session.execute(select(CaseEvent.case_id).where(
            CaseEvent.case_id.in_(cases)))).scalars().all()
    assert len(recorded) == 18  # the consumer never waited either
    for cid in cases:
        assert fast_ep.for_case(cid) == ["ServiceRequestReceived", "ServiceRequestAcknowledged", *ONSITE_TYPES]
    await wait_async("the slow subscriber, in order too",
                     lambda: _true(sum(len(slow_ep.for_case(c)) for c in cases) >= 18), timeout=40)
    for cid in cases:
        assert slow_ep.for_case(cid) == ["ServiceRequestReceived", "ServiceRequestAcknowledged", *ONSITE_TYPES]


async def test_a_subscription_failing_for_days_is_disabled_and_its_owner_told(ctx, cleanup):
    region = unique("wh-disable")
    sub, ep = await ctx.subscribe("disable", region=region, event_types=["ServiceRequestReceived"])
    ep.status = 500
    cleanup.append(sub["id"])
    await ctx.new_case(region)
    await wait_async("the first failure recorded", lambda: _true_async(ctx.attempts(sub["id"]), 1))
    await ctx.tick(timedelta(days=6))

    async def disabled():
        r = await ctx.c.get(f"/webhook-subscriptions/{sub['id']}", headers=ctx.admin)
        return r.json() if not r.json()["enabled"] else None

    found = await wait_async("the subscription disabled", disabled)
    assert found["disabled_reason"].startswith("every delivery failed since") and found["disabled_at"]

    async def told():
        async with ctx.app.state.sessions() as session:
            return (await session.execute(select(CaseEvent).where(
                CaseEvent.case_id == sub["id"], CaseEvent.event_type == "WebhookSubscriptionDisabled"))
            ).scalars().all()

    events = await wait_async("WebhookSubscriptionDisabled", told)
    assert events[0].data["owner"] == "integrator-1" and events[0].data["url"] == sub["url"]
    # enabling it again starts afresh
    r = await ctx.c.patch(f"/webhook-subscriptions/{sub['id']}", headers=ctx.admin, json={"enabled": True})
    assert r.status_code == 200 and r.json()["disabled_reason"] is None and r.json()["failing_since"] is None


async def test_unsafe_urls_and_invalid_subscriptions_are_refused(ctx, cleanup):
    for url in ("https://10.1.2.3/hook", "https://169.254.169.254/latest/meta-data", "https://[::1]:8443/hook",
                "https://192.168.0.10/hook", f"http://127.0.0.1:{ctx.receiver.port}@10.0.0.1/hook"):
        r = await ctx.c.post("/webhook-subscriptions", headers=ctx.admin, json={"url": url})
        assert r.status_code == 422, (url, r.text)
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem["field"] == "url" and problem["errors"][0]["field"] == "body.url", problem
    r = await ctx.c.post("/webhook-subscriptions", headers=ctx.admin, json={"url": "http://example.com/hook"})
    assert r.status_code == 422 and "HTTPS" in r.json()["detail"]
    r = await ctx.c.post("/webhook-subscriptions", headers=ctx.admin,
                         json={"url": f"{ctx.receiver.base}/hooks/x", "event_types": ["NoSuchEvent"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.event_types", r.text
    r = await ctx.c.post("/webhook-subscriptions", headers=ctx.admin,
                         json={"url": f"{ctx.receiver.base}/hooks/x", "region": "  "})
    assert r.status_code == 422
    r = await ctx.c.post("/webhook-subscriptions", headers=ctx.admin,
                         json={"url": f"{ctx.receiver.base}/hooks/x", "secret": "mine"})
    assert r.status_code == 422
    # the roles: an integration admin or an admin, nobody else
    r = await ctx.c.get("/webhook-subscriptions", headers=bearer(ctx.env, "dispatcher", "disp-1"))
    assert r.status_code == 403
    r = await ctx.c.get("/webhook-subscriptions", headers=bearer(ctx.env, "admin", "root"))
    assert r.status_code == 200
    # a disabled subscription, its update with a stale ETag, deletion
    created, _ = await ctx.subscribe("crud", region=unique("wh-crud"))
    r = await ctx.c.patch(f"/webhook-subscriptions/{created['id']}", headers={**ctx.admin, "If-Match": 'W/"1"'},
                          json={"enabled": False, "event_types": ["CaseClosed"]})
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["event_types"] == ["CaseClosed"]
    r = await ctx.c.patch(f"/webhook-subscriptions/{created['id']}", headers={**ctx.admin, "If-Match": 'W/"1"'},
                          json={"enabled": True})
    assert r.status_code == 412
    r = await ctx.c.patch(f"/webhook-subscriptions/{created['id']}", headers=ctx.admin,
                          json={"url": "https://10.0.0.1/x"})
    assert r.status_code == 422 and r.json()["field"] == "url"
    listed = (await ctx.c.get("/webhook-subscriptions", headers=ctx.admin, params={"enabled": "false"})).json()
    assert created["id"] in {s["id"] for s in listed["items"]}
    assert (await ctx.c.delete(f"/webhook-subscriptions/{created['id']}", headers=ctx.admin)).status_code == 204
    assert (await ctx.c.get(f"/webhook-subscriptions/{created['id']}", headers=ctx.admin)).status_code == 404



async def test_the_worker_follows_no_redirect_reads_a_capped_answer_and_gives_up_at_its_timeout(ctx):
    worker = WebhookWorker(ctx.env.settings("dispatch", webhook_allowed_hosts=["127.0.0.1/32"],
                                            webhook_timeout_seconds=1, webhook_max_response_bytes=1024))
    receiver = ctx.receiver

    async def redirect(_request: Request) -> Response:
        return RedirectResponse(f"{receiver.base}/raw/target", status_code=307)

    async def target(_request: Request) -> Response:
        return Response(status_code=200)

    async def endless(_request: Request) -> Response:
        async def chunks():
            while True:  # an answer that never ends: only the first KiB is read
                yield b"x" * 65536
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), status_code=200)

    async def hang(_request: Request) -> Response:
        await asyncio.sleep(5)
        return Response(status_code=200)

    receiver.raw.update(redirect=redirect, target=target, endless=endless, hang=hang)

    def claimed(url: str) -> Claimed:
        return Claimed(id=uuid.uuid4(), subscription_id=uuid.uuid4(), event_id=uuid.uuid4(), case_id="c",
                       attempts=0, queued_at=datetime.now(UTC), url=url, secrets=("whsec_" + "A" * 44,),
                       body="{}")

    try:
        result = await worker.send(claimed(f"{receiver.base}/raw/redirect"))
        assert result.status_code == 307 and result.error == "redirects are not followed"
        assert "target" not in receiver.raw_hits
        result = await worker.send(claimed(f"{receiver.base}/raw/endless"))
        assert result.status_code == 200 and result.error is None and result.latency_ms < 1000
        result = await worker.send(claimed(f"{receiver.base}/raw/hang"))
        assert result.status_code is None and result.error == "no answer within 1 s"
        assert 900 <= result.latency_ms < 3000
        result = await worker.send(claimed(f"http://127.0.0.1:{free_port()}/nobody"))
        assert result.status_code is None and result.error.startswith("ConnectError")
        # an address refused at send time (the allow-list no longer covers it) is a failed attempt, not a request
        strict = WebhookWorker(ctx.env.settings("dispatch"))
        result = await strict.send(claimed(f"{receiver.base}/raw/target"))
        assert result.status_code is None and "not allowed" in result.error
        assert receiver.raw_hits.count("target") == 0
    finally:
        await worker.close()


async def test_two_replicas_never_send_one_delivery_twice(ctx, cleanup):
    """A second worker (another replica) on the same database: SKIP LOCKED and the lease split the work."""
    region = unique("wh-replicas")
    in_flight: dict[str, int] = {}
    overlaps: list[str] = []

    async def answer(envelope: dict) -> int:
        in_flight[envelope["id"]] = in_flight.get(envelope["id"], 0) + 1
        if in_flight[envelope["id"]] > 1:
            overlaps.append(envelope["id"])
        await asyncio.sleep(0.1)
        in_flight[envelope["id"]] -= 1
        return 200

    sub, ep = await ctx.subscribe("replicas", region=region)
    ep.answer = answer
    cleanup.append(sub["id"])
    other = WebhookWorker(ctx.env.settings("dispatch", webhook_allowed_hosts=["127.0.0.1/32"],
                                           webhook_poll_seconds=0.05), clock=ctx.clock.now)
    sent_by_other: list[str] = []
    send = other.send

    async def counting_send(delivery: Claimed):
        sent_by_other.append(str(delivery.event_id))
        return await send(delivery)

    other.send = counting_send  # type: ignore[method-assign]
    stop = asyncio.Event()
    replica = asyncio.create_task(other.run(SimpleNamespace(sessions=ctx.app.state.sessions, stop=stop)))
    try:
        cases = [await ctx.new_case(region) for _ in range(4)]
        for cid in cases:
            await wait_async("the dispatch events", lambda c=cid: _true(len(ep.for_case(c)) >= 2))
            await publish(ctx.env, *onsite_day(cid))
        await wait_async("every event", lambda: _true(len(ep.received) >= 24), timeout=30)
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await asyncio.wait_for(replica, 15)
    ids = [e["id"] for e in ep.received]
    assert len(ids) == len(set(ids)) == 24 and overlaps == []
    for cid in cases:
        assert ep.for_case(cid) == ["ServiceRequestReceived", "ServiceRequestAcknowledged", *ONSITE_TYPES]
    assert sent_by_other and len(sent_by_other) < 24  # both replicas sent some
