"""The event catalogue as an AsyncAPI 3 document, generated from the pydantic event models.

`fieldservice asyncapi` writes `docs/asyncapi.yaml`; `fieldservice asyncapi --check` (run by
`make test`) fails when the file differs from what the code generates, so it never drifts.
"""

from __future__ import annotations

import importlib
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from devstack.stack import ROOT, SERVICES
from shared.events import EventEnvelope, registry

DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
REF = "#/components/schemas/{model}"
EXAMPLE_CASE = "6f1c2a4e-8b7d-4c3e-9a51-2d0e7f3b8c10"


def _example(schema: dict[str, Any], defs: dict[str, Any], name: str = "") -> Any:
    """A value valid for `schema` (deterministic, readable)."""
    if "$ref" in schema:
        return _example(defs[schema["$ref"].split("/")[-1]], defs, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _example(options[0], defs, name) if options else None
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "object" or "properties" in schema:
        return {k: _example(v, defs, k) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_example(schema.get("items", {}), defs, name)]
    if kind == "string":
        if fmt == "uuid":
            return EXAMPLE_CASE
        if fmt == "date-time":
            return "2026-11-27T09:30:00Z"
        if fmt == "date":
            return "2026-11-27"
        return {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}.get(name, name or "text")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1) if schema.get("maximum", 5) >= 1 else 0
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return False
    return None


def _handled_events() -> dict[str, set[str]]:
    """Which service's consumer handles which event types (from the services' handler tables)."""
    handled: dict[str, set[str]] = {}
    for spec in SERVICES:
        module = importlib.import_module(f"services.{spec.name}.handlers")
        table = getattr(module, "handlers", None)
        if table is None:
            settings = importlib.import_module(f"services.{spec.name}.settings").get_settings()
            table = module.build_handlers(settings)
        handled[spec.name] = {t for t in table.event_types if t != "*"} or set()
        if "*" in table.event_types:
            handled[spec.name] |= {c.event_type for c in registry.all()}
    return handled


def build() -> dict[str, Any]:
    payloads = registry.all()
    models: list[type[BaseModel]] = [EventEnvelope, *payloads]
    _, top = models_json_schema([(c, "validation") for c in models], ref_template=REF)
    schemas = top.get("$defs", {})
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    envelope_example = _example(schemas["EventEnvelope"], schemas)
    for cls in payloads:
        key = f"{cls.event_type}.v{cls.event_version}"
        data = _example(schemas[cls.__name__], schemas)
        cls.model_validate(data)  # an example that does not validate is a bug here
        messages[key] = {
            "name": cls.event_type,
            "title": f"{cls.event_type} (version {cls.event_version})",
            "summary": (cls.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/MessageHeaders"},
            "payload": {"allOf": [
                {"$ref": REF.format(model="EventEnvelope")},
                {"type": "object", "properties": {
                    "type": {"const": cls.event_type}, "version": {"const": cls.event_version},
                    "data": {"$ref": REF.format(model=cls.__name__)}}},
            ]},
            "examples": [{"name": f"{cls.event_type}-example", "payload": {
                **envelope_example, "type": cls.event_type, "version": cls.event_version,
                "source": f"/fieldservice/{cls.producer}", "subject": EXAMPLE_CASE, "data": data}}],
        }
        channel = f"{cls.producer}Events"
        channels.setdefault(channel, {"address": f"{cls.producer}.events",
                                      "description": f"Events of the {cls.producer} service, keyed by case id.",
                                      "messages": {}})
        channels[channel]["messages"][key] = {"$ref": f"#/components/messages/{key}"}
    for producer in sorted({c.producer for c in payloads}):
        channel = f"{producer}Events"
        operations[f"{producer}Publishes"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"The {producer} service's outbox relay publishes these events.",
            "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in channels[channel]["messages"]],
        }
    for consumer, types in sorted(_handled_events().items()):
        for producer in sorted({c.producer for c in payloads}):
            channel = f"{producer}Events"
            wanted = [m for m in channels[channel]["messages"] if m.split(".v")[0] in types]
            if wanted:
                operations[f"{consumer}Consumes{producer.title()}Events"] = {
                    "action": "receive", "channel": {"$ref": f"#/channels/{channel}"},
                    "summary": f"Consumer group `{consumer}` handles these {producer} events.",
                    "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in wanted],
                }
    schemas["MessageHeaders"] = {"type": "object", "properties": {
        "event-id": {"type": "string", "format": "uuid", "description": "Same as the envelope id"},
        "event-type": {"type": "string"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
        "tracestate": {"type": "string"},
    }}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Field-service platform events",
            "version": "1.0.0",
            "description": "Every event of the four services. One CloudEvents-shaped envelope (`subject` is the "
                           "service case id and the message key) around a typed payload in `data`. Payload "
                           "changes are additive; a breaking change is a new version. Dead letters go to "
                           "`<service>.dlq` with `dlq-error` and `dlq-origin-*` headers.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "make run (Tansu)"},
            "production": {"host": "kafka:9092", "protocol": "kafka", "description": "Apache Kafka (KRaft)"},
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render() -> str:
    return yaml.safe_dump(build(), sort_keys=False, allow_unicode=True, width=100)
