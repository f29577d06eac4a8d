"""S1's two units of work (decision 0098): one statement for a plain delivery, the session's
transaction for one carrying an Idempotency-Key. Both open the same case with the same event, once."""

from __future__ import annotations

import json
import time
import uuid

import asyncpg
import pytest

from devstack.client import sample_request
from devstack.stack import plain_dsn
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET
from tests.integration.conftest import bearer, running_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def dispatch(env):
    async with running_app(env, "dispatch", relay_enabled=False, consumer_enabled=False) as (_app, c):
        yield c


def signed(env, body: dict, **headers: str) -> dict:
    raw = json.dumps(body).encode()
    ts = int(time.time())
    return {"content": raw, "headers": {**bearer(env, "crm", "crm"), "Content-Type": "application/json",
                                        TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(DEV_WEBHOOK_SECRET, ts, raw),
                                        **headers}}


async def stored(env, case_id: str) -> tuple[dict, list[dict]]:
    """The case's row and its outbox rows, as the database holds them."""
    conn = await asyncpg.connect(plain_dsn(env.databases["dispatch"]))
    try:
        case = await conn.fetchrow("SELECT * FROM service_case WHERE id = $1", uuid.UUID(case_id))
        events = await conn.fetch("SELECT aggregate_type, aggregate_id, event_type, event_version, payload::text, "
                                  "attempts, sent_at FROM outbox_message WHERE aggregate_id = $1 ORDER BY seq", case_id)
    finally:
        await conn.close()
    assert case is not None
    return dict(case), [{**dict(e), "payload": json.loads(e["payload"])} for e in events]


def comparable(case: dict, events: list[dict]) -> tuple[dict, list[dict]]:
    """What two deliveries of different requests share: everything but ids, references and times."""
    varying = {"id", "crm_reference", "created_at", "updated_at"}
    same_case = {k: v for k, v in case.items() if k not in varying}
    same_events = []
    for e in events:
        per_request = {"id", "time", "subject", "correlationid", "traceparent", "tracestate"}
        envelope = {k: v for k, v in e["payload"].items() if k not in per_request}
        envelope["data"] = {k: v for k, v in envelope["data"].items() if k not in {"case_id", "crm_reference"}}
        same_events.append({**{k: v for k, v in e.items() if k not in {"aggregate_id", "payload"}},
                            "envelope": envelope})
    return same_case, same_events


async def test_a_plain_delivery_opens_the_case_and_its_event_in_one_statement_once(env, dispatch):
    request = signed(env, sample_request(f"T-{uuid.uuid4().hex[:10]}"))
    first = await dispatch.post("/crm/service-requests", **request)
    assert first.status_code == 201, first.text
    case_id = first.json()["id"]
    assert first.headers["location"] == f"/cases/{case_id}"
    again = await dispatch.post("/crm/service-requests", **request)
    assert again.status_code == 200 and again.json() == first.json()
    case, events = await stored(env, case_id)
    assert case["status"] == "received" and case["version"] == 1
    assert [e["event_type"] for e in events] == ["ServiceRequestReceived"]  # the second delivery added none
    assert events[0]["payload"]["subject"] == case_id and events[0]["payload"]["data"]["case_id"] == case_id
    assert events[0]["sent_at"] is None and events[0]["attempts"] == 0


async def test_a_keyed_delivery_opens_the_same_case_and_event_as_a_plain_one(env, dispatch):
    body = sample_request(f"T-{uuid.uuid4().hex[:10]}")
    plain = await dispatch.post("/crm/service-requests", **signed(env, body))
    keyed_body = {**body, "crm_reference": f"T-{uuid.uuid4().hex[:10]}"}
    key = {"Idempotency-Key": f"key-{uuid.uuid4()}"}
    keyed = await dispatch.post("/crm/service-requests", **signed(env, keyed_body, **key))
    assert (plain.status_code, keyed.status_code) == (201, 201), keyed.text
    replayed = await dispatch.post("/crm/service-requests", **signed(env, keyed_body, **key))
    assert replayed.headers.get("idempotent-replayed") == "true" and replayed.json() == keyed.json()
    drop = {"id", "crm_reference", "created_at", "updated_at"}
    assert {k: v for k, v in plain.json().items() if k not in drop} == \
        {k: v for k, v in keyed.json().items() if k not in drop}
    assert comparable(*await stored(env, plain.json()["id"])) == comparable(*await stored(env, keyed.json()["id"]))
