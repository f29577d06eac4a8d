"""The one envelope every event travels in (CloudEvents 1.0 attributes plus our extensions).

`subject` is always the service case id: it is also the Kafka message key, so the events of
one case stay in one partition and in order.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared import context
from shared.clock import utcnow
from shared.events.registry import EventPayload, redact, registry
from shared.tracing import current_trace_headers


class EventEnvelope(BaseModel):
    """A CloudEvents-shaped envelope with a typed payload in `data`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=uuid4, description="Unique event id; consumers de-duplicate on it")
    type: str = Field(description="Event type in past tense, e.g. EngineerArrived")
    version: int = Field(default=1, ge=1, description="Payload schema version of this type")
    source: str = Field(description="Producing service, e.g. /fieldservice/onsite")
    time: AwareDatetime
    subject: str = Field(min_length=1, description="The service case id (also the message key)")
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str = Field(description="Shared by everything that one request set in motion")
    causationid: str | None = Field(default=None, description="Id of the event that caused this one")
    actor: str = Field(description="Who did it: a user subject, a machine client or service:<name>")
    traceparent: str | None = Field(default=None, description="W3C trace context (CloudEvents tracing)")
    tracestate: str | None = Field(default=None)
    data: dict[str, Any]

    @classmethod
    def wrap(cls, payload: EventPayload, *, source: str, subject: str, actor: str) -> EventEnvelope:
        """Envelope a payload, taking correlation, causation and trace from the current context."""
        trace_headers = current_trace_headers()
        return cls(
            type=payload.event_type,
            version=payload.event_version,
            source=source,
            time=utcnow(),
            subject=subject,
            correlationid=context.current_correlation_id(),
            causationid=context.causation_id.get(),
            actor=actor,
            traceparent=trace_headers.get("traceparent"),
            tracestate=trace_headers.get("tracestate"),
            data=payload.model_dump(mode="json"),
        )

    def payload(self) -> EventPayload:
        """The typed payload; raises UnknownEventType or pydantic.ValidationError."""
        return registry.parse(self.type, self.version, self.data)

    def redacted(self) -> EventEnvelope:
        """This envelope with its type's secret fields replaced (what may be stored or sent on: the timeline,
        webhook bodies); itself when the type has none."""
        data = redact(self.type, self.version, self.data)
        return self if data is self.data else self.model_copy(update={"data": data})

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventEnvelope:
        return cls.model_validate(json.loads(raw))
