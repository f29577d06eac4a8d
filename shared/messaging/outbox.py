"""Writing events into the outbox, inside the caller's transaction (never on their own)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from shared import context
from shared.events import EventEnvelope, EventPayload
from shared.messaging.tables import OutboxMessage


def add_event(
    session: AsyncSession,
    payload: EventPayload,
    *,
    source: str,
    subject: str,
    actor: str,
    aggregate_type: str = "service_case",
) -> EventEnvelope:
    """Stage an event in the session's transaction; it is published only if that commits."""
    envelope = EventEnvelope.wrap(payload, source=source, subject=subject, actor=actor)
    context.case_id.set(subject)
    session.add(
        OutboxMessage(
            id=envelope.id,
            aggregate_type=aggregate_type,
            aggregate_id=subject,
            event_type=envelope.type,
            event_version=envelope.version,
            payload=envelope.model_dump(mode="json"),
            created_at=datetime.now(UTC),
        )
    )
    return envelope


class EventWriter:
    """A service's bound `add_event`: knows its source name so call sites pass only the domain."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.source = f"/fieldservice/{service}"

    def __call__(
        self, session: AsyncSession, payload: EventPayload, *, case_id: object, actor: str
    ) -> EventEnvelope:
        if payload.producer != self.service:
            raise ValueError(f"{self.service} may not emit {payload.event_type} (owned by {payload.producer})")
        return add_event(session, payload, source=self.source, subject=str(case_id), actor=actor)
