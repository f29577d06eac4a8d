"""The event envelope and the payload registry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared import context
from shared.events import EventEnvelope, UnknownEventType, registry
from shared.events.dispatch import ServiceRequestAcknowledged
from shared.events.quality import IssueLogged


def test_round_trip_keeps_every_attribute_and_the_typed_payload():
    case_id = uuid.uuid4()
    payload = ServiceRequestAcknowledged(case_id=case_id, acknowledged_by="disp-1")
    with context.work_context(correlation="corr-1", causation="cause-1"):
        envelope = EventEnvelope.wrap(payload, source="/fieldservice/dispatch", subject=str(case_id), actor="disp-1")
    again = EventEnvelope.from_bytes(envelope.to_bytes())
    assert again == envelope
    assert (again.type, again.version, again.subject) == ("ServiceRequestAcknowledged", 1, str(case_id))
    assert (again.correlationid, again.causationid, again.actor) == ("corr-1", "cause-1", "disp-1")
    assert again.specversion == "1.0" and again.time.tzinfo is not None
    assert again.payload() == payload


def test_a_fresh_correlation_id_when_none_is_set():
    payload = ServiceRequestAcknowledged(case_id=uuid.uuid4(), acknowledged_by="x")
    a = EventEnvelope.wrap(payload, source="/s", subject="c", actor="x")
    b = EventEnvelope.wrap(payload, source="/s", subject="c", actor="x")
    assert a.correlationid and a.correlationid != b.correlationid and a.causationid is None


def test_unknown_type_and_invalid_payload_are_refused():
    base = {"source": "/s", "time": datetime.now(UTC), "subject": "c", "correlationid": "c", "actor": "a"}
    with pytest.raises(UnknownEventType):
        EventEnvelope(type="NothingHappened", data={}, **base).payload()
    with pytest.raises(ValidationError):
        EventEnvelope(type="ServiceRequestAcknowledged", data={"case_id": "x"}, **base).payload()


def test_envelope_refuses_naive_times_and_unknown_attributes():
    with pytest.raises(ValidationError):
        EventEnvelope(type="T", source="/s", time=datetime(2026, 1, 1), subject="c", correlationid="c",
                      actor="a", data={})
    with pytest.raises(ValidationError):
        EventEnvelope.model_validate({"type": "T", "source": "/s", "time": "2026-01-01T00:00:00Z", "subject": "c",
                                      "correlationid": "c", "actor": "a", "data": {}, "surprise": 1})


def test_payloads_ignore_fields_added_by_a_newer_producer():
    data = {"case_id": str(uuid.uuid4()), "acknowledged_by": "x", "added_in_a_later_release": True}
    parsed = registry.parse("ServiceRequestAcknowledged", 1, data)
    assert isinstance(parsed, ServiceRequestAcknowledged)


def test_every_event_type_is_past_tense_and_registered_once():
    types = [(c.event_type, c.event_version) for c in registry.all()]
    assert len(types) == len(set(types))
    assert IssueLogged in registry.all()
    for event_type, _ in types:
        assert event_type[0].isupper() and " " not in event_type


def test_a_service_may_emit_only_its_own_events():
    from shared.messaging.outbox import EventWriter

    onsite = EventWriter("onsite")
    with pytest.raises(ValueError, match="owned by dispatch"):
        onsite(None, ServiceRequestAcknowledged(case_id=uuid.uuid4(), acknowledged_by="x"),  # type: ignore[arg-type]
               case_id="c", actor="a")
