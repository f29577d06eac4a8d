"""Dispatch over HTTP (in-process app, real database and broker): intake, gates, problems."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from devstack.client import sample_request
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET
from tests.integration.conftest import bearer, every_page, running_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def dispatch(env):
    async with running_app(env, "dispatch", crm_webhook_secrets=[DEV_WEBHOOK_SECRET, "previous-secret"],
                           consumer_enabled=False) as (_app, c):
        yield c


def signed(env, body: dict, *, secret: str = DEV_WEBHOOK_SECRET, ts: int | None = None) -> dict:
    raw = json.dumps(body).encode()
    ts = int(time.time()) if ts is None else ts
    return {"content": raw, "headers": {**bearer(env, "crm", "crm"), "Content-Type": "application/json",
                                        TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, raw)}}


def ref() -> str:
    return f"T-{uuid.uuid4().hex[:10]}"


async def test_intake_creates_once_and_returns_the_existing_case_again(env, dispatch):
    body = sample_request(ref())
    first = await dispatch.post("/crm/service-requests", **signed(env, body))
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"/cases/{first.json()['id']}"
    again = await dispatch.post("/crm/service-requests", **signed(env, body))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


async def test_a_replayed_delivery_has_no_effect(env, dispatch):
    request = signed(env, sample_request(ref()))
    first = await dispatch.post("/crm/service-requests", **request)
    replay = await dispatch.post("/crm/service-requests", **request)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json()["id"] == first.json()["id"]


async def test_webhook_signature_is_checked(env, dispatch):
    body = sample_request(ref())
    bad = signed(env, body, secret="not-the-secret")
    r = await dispatch.post("/crm/service-requests", **bad)
    assert r.status_code == 401 and r.json()["type"].endswith("/unauthorized")
    assert "signature" in r.json()["detail"]
    old = signed(env, body, ts=int(time.time()) - 301)
    r = await dispatch.post("/crm/service-requests", **old)
    assert r.status_code == 401 and "replay window" in r.json()["detail"]
    tampered = signed(env, body)
    tampered["content"] = tampered["content"].replace(b"Wuxi", b"Xian")
    assert (await dispatch.post("/crm/service-requests", **tampered)).status_code == 401
    rotated = signed(env, body, secret="previous-secret")
    assert (await dispatch.post("/crm/service-requests", **rotated)).status_code == 201
    unsigned = {"content": json.dumps(body).encode(), "headers": bearer(env, "crm", "crm")}
    assert (await dispatch.post("/crm/service-requests", **unsigned)).status_code == 401


async def test_only_the_crm_may_push_requests(env, dispatch):
    request = signed(env, sample_request(ref()))
    request["headers"].update(bearer(env, "dispatcher", "d1"))
    assert (await dispatch.post("/crm/service-requests", **request)).status_code == 403


async def test_invalid_input_is_a_problem_naming_the_fields(env, dispatch):
    body = sample_request(ref())
    body["urgency"] = "whenever"
    body["equipment"]["quantity"] = 0
    body["status"] = "dispatched"  # nobody sets a status by adding a field
    r = await dispatch.post("/crm/service-requests", **signed(env, body))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"body.urgency", "body.equipment.quantity", "body.status"} <= fields


async def test_malformed_json_is_a_422_problem(env, dispatch):
    request = signed(env, {})
    raw = b'{"crm_reference": "x",'
    ts = int(time.time())
    request["content"] = raw
    request["headers"][SIGNATURE_HEADER] = sign(DEV_WEBHOOK_SECRET, ts, raw)
    request["headers"][TIMESTAMP_HEADER] = str(ts)
    r = await dispatch.post("/crm/service-requests", **request)
    assert r.status_code == 422 and r.json()["status"] == 422


async def test_unknown_case_is_404_problem(env, dispatch):
    r = await dispatch.get(f"/cases/{uuid.uuid4()}", headers=bearer(env, "dispatcher", "d1"))
    assert r.status_code == 404 and r.json()["type"].endswith("/not-found")
    r = await dispatch.get("/cases/not-a-uuid", headers=bearer(env, "dispatcher", "d1"))
    assert r.status_code == 422


async def test_dispatch_gate_refuses_naming_every_missing_condition(env, dispatch):
    case = (await dispatch.post("/crm/service-requests", **signed(env, sample_request(ref())))).json()
    d = bearer(env, "dispatcher", "d1")
    r = await dispatch.post(f"/cases/{case['id']}/dispatch", headers=d, json={"team": []})
    assert r.status_code == 422  # the team comes from S3, not from the dispatch request
    r = await dispatch.post(f"/cases/{case['id']}/dispatch", headers=d)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith("/gate-refused") and problem["gate"] == "dispatch"
    assert [m.split(":")[0] for m in problem["missing_conditions"]] == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert "acknowledged" in problem["missing_conditions"][0]


async def test_a_stale_write_is_refused_with_412(env, dispatch):
    case = (await dispatch.post("/crm/service-requests", **signed(env, sample_request(ref())))).json()
    d = bearer(env, "dispatcher", "d1")
    read = await dispatch.get(f"/cases/{case['id']}", headers=d)
    stale = read.headers["etag"]
    first = await dispatch.post(f"/cases/{case['id']}/acknowledge", headers={**d, "If-Match": stale})
    assert first.status_code == 200
    second = await dispatch.post(f"/cases/{case['id']}/acknowledge", headers={**d, "If-Match": stale})
    assert second.status_code == 412 and second.json()["current_etag"] == first.headers["etag"]


async def test_health_and_readiness(env, dispatch):
    assert (await dispatch.get("/healthz")).status_code == 200
    ready = await dispatch.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    metrics = await dispatch.get("/metrics")
    assert "http_requests_total" in metrics.text


async def test_readiness_fails_when_the_broker_is_unreachable(env):
    async with running_app(env, "dispatch", kafka_bootstrap_servers="127.0.0.1:1",
                           relay_enabled=False, consumer_enabled=False) as (_app, c):
        r = await c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["broker"].startswith("unreachable")


async def test_oversized_body_is_refused_with_413(env, dispatch):
    body = sample_request(ref())
    body["requested_work"] = "x" * 1_100_000
    r = await dispatch.post("/crm/service-requests", **signed(env, body))
    assert r.status_code == 413 and r.json()["type"].endswith("/payload-too-large")


async def test_case_list_is_keyset_paginated(env, dispatch):
    d = bearer(env, "dispatcher", "d1")
    region = f"r-{uuid.uuid4().hex[:6]}"
    for _ in range(5):
        body = sample_request(ref())
        body["region"] = region
        assert (await dispatch.post("/crm/service-requests", **signed(env, body))).status_code == 201
    seen = [c["id"] for c in await every_page(dispatch, "/cases", d, region=region, limit=2)]
    assert len(seen) == 5 == len(set(seen))
    assert (await dispatch.get("/cases", headers=d, params={"limit": 500})).status_code == 422
