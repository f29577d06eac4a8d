"""One trace joins an HTTP request in dispatch and the event handler it causes in onsite."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from devstack.client import sample_request
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET
from shared.tracing import configure_tracing
from tests.integration.conftest import bearer, running_app, wait_async

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()


async def test_a_trace_crosses_from_an_http_request_to_a_handler_in_another_service(env):
    assert configure_tracing("test", exporter=EXPORTER)
    async with running_app(env, "dispatch", consumer_enabled=False) as (_d, dispatch), \
            running_app(env, "onsite") as (_o, _onsite):
        raw = json.dumps(sample_request(f"TR-{uuid.uuid4().hex[:8]}")).encode()
        ts = int(time.time())
        case = (await dispatch.post("/crm/service-requests", content=raw, headers={
            **bearer(env, "crm", "crm"), "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(DEV_WEBHOOK_SECRET, ts, raw)})).json()
        d = bearer(env, "dispatcher", "d1")
        await dispatch.post(f"/cases/{case['id']}/acknowledge", headers=d)
        now = datetime.now(UTC)
        # The dispatch body grows with the dispatch domain; the trace is what is tested here.
        r = await dispatch.post(f"/cases/{case['id']}/dispatch", headers=d, json={
            "team": [{"engineer_id": "e1", "name": "E", "grade": 4}],
            "planned_start": (now + timedelta(days=1)).isoformat(),
            "planned_end": (now + timedelta(days=2)).isoformat()})
        assert r.status_code == 200, r.text

        def handler_span():
            return next((s for s in EXPORTER.get_finished_spans()
                         if s.name == "handle ServiceDispatched" and s.kind == SpanKind.CONSUMER), None)

        async def traced():
            return handler_span()

        consumer_span = await wait_async("onsite's handler span", traced)
        request_spans = [s for s in EXPORTER.get_finished_spans()
                         if s.kind == SpanKind.SERVER and "/dispatch" in s.name]
        assert request_spans, [s.name for s in EXPORTER.get_finished_spans()]
        assert consumer_span.context.trace_id == request_spans[-1].context.trace_id
        assert consumer_span.parent is not None
