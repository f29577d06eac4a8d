"""OpenTelemetry traces across HTTP and Kafka.

The trace context travels inside the event envelope (`traceparent` / `tracestate`, the
CloudEvents distributed-tracing extension) and as Kafka headers: the envelope is written to
the outbox in the request's context, so the context survives until the relay publishes it and
the consumer in another service continues the same trace.

Off by default. The standard OpenTelemetry environment turns it on: `OTEL_TRACES_EXPORTER=otlp`
with `OTEL_EXPORTER_OTLP_ENDPOINT` (and `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, ...).
Tests install an in-memory exporter with `configure_tracing(exporter=...)`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind

_configured = False


def tracing_requested() -> bool:
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    return exporter not in ("", "none") and os.environ.get("OTEL_SDK_DISABLED", "").lower() != "true"


def configure_tracing(service: str, exporter: SpanExporter | None = None) -> bool:
    """Install a tracer provider once per process; True when traces are recorded."""
    global _configured
    if _configured:
        return True
    processor: SpanProcessor
    if exporter is None:
        if not tracing_requested():
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter())
    else:
        processor = SimpleSpanProcessor(exporter)
    name = os.environ.get("OTEL_SERVICE_NAME", f"fieldservice-{service}")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _configured = True
    return True


def current_trace_headers() -> dict[str, str]:
    """The W3C trace context of the work in progress (empty when nothing is traced)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def consuming_span(service: str, event_type: str, traceparent: str | None, tracestate: str | None) -> Iterator[None]:
    """A consumer span, child of the span that wrote the event in another service."""
    carrier = {k: v for k, v in (("traceparent", traceparent), ("tracestate", tracestate)) if v}
    parent = propagate.extract(carrier)
    token = otel_context.attach(parent)
    try:
        tracer = trace.get_tracer(f"fieldservice.{service}")
        with tracer.start_as_current_span(f"handle {event_type}", kind=SpanKind.CONSUMER,
                                          attributes={"messaging.system": "kafka",
                                                      "messaging.operation": "process",
                                                      "fieldservice.event_type": event_type}):
            yield
    finally:
        otel_context.detach(token)
