"""One trace joins an HTTP request in one service and the event handler it causes in another."""

from __future__ import annotations

import uuid

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared.tracing import configure_tracing
from tests.integration.conftest import bearer, running_app, wait_async

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()


async def test_a_trace_crosses_from_an_http_request_to_a_handler_in_another_service(env):
    assert configure_tracing("test", exporter=EXPORTER)
    async with running_app(env, "quality", consumer_enabled=False) as (_q, quality), \
            running_app(env, "onsite") as (_o, _onsite):
        issue = {"case_id": str(uuid.uuid4()), "product": "GIS bay", "failure_mode": "gas-leak",
                 "severity": "minor", "description": "traced"}
        r = await quality.post("/issues", headers=bearer(env, "quality_engineer", "qe-1", unit="u1"), json=issue)
        assert r.status_code == 201, r.text

        request_spans = [s for s in EXPORTER.get_finished_spans()
                         if s.kind == SpanKind.SERVER and s.name.startswith("POST /issues")]
        assert request_spans, [s.name for s in EXPORTER.get_finished_spans()]
        traces = {s.context.trace_id for s in request_spans}

        # onsite may first work through IssueLogged events other tests left on the topic (their
        # own traces): wait for the handler span of this request's event
        async def handler_span():
            return next((s for s in EXPORTER.get_finished_spans() if s.name == "handle IssueLogged"
                         and s.kind == SpanKind.CONSUMER and s.context.trace_id in traces), None)

        consumer_span = await wait_async("onsite's handler span in the request's trace", handler_span)
        assert consumer_span.parent is not None
