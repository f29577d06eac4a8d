"""Writing events into the outbox, inside the caller's transaction (never on their own).

Events are staged on the session and written by one multi-row INSERT just before it commits
(plain Core rows: cheaper than an ORM object per event on every write path); a rollback drops them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import context
from shared.clock import utcnow
from shared.db import table_of
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
    staged: list[dict[str, Any]] = session.info.setdefault(_STAGED, [])
    staged.append({
        "id": envelope.id, "aggregate_type": aggregate_type, "aggregate_id": subject,
        "event_type": envelope.type, "event_version": envelope.version,
        "payload": envelope.model_dump(mode="json"), "created_at": utcnow(),
        "attempts": 0,
    })
    return envelope


_STAGED = "outbox.staged"
_INSERT = insert(table_of(OutboxMessage))


@event.listens_for(Session, "before_commit")
def _write_staged_events(session: Session) -> None:
    """Insert the transaction's events, in the order they were staged (their `seq` order)."""
    rows = session.info.pop(_STAGED, None)
    if rows:
        session.execute(_INSERT, rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_staged_events(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back unit of work publishes nothing (after a commit the list is already empty)."""
    if transaction.parent is None:
        session.info.pop(_STAGED, None)


class EventWriter:
    """A service's bound `add_event`: knows its source name so call sites pass only the domain."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.source = f"/fieldservice/{service}"

    def __call__(
        self, session: AsyncSession, payload: EventPayload, *, case_id: object, actor: str
    ) -> EventEnvelope:
        self._check_producer(payload)
        return add_event(session, payload, source=self.source, subject=str(case_id), actor=actor)

    def envelope(self, payload: EventPayload, *, case_id: object, actor: str) -> EventEnvelope:
        """The event for a one-statement unit of work (`shared.db.one_statement`) whose statement
        inserts the outbox row itself (`OUTBOX_COLUMNS`); nothing is staged on a session."""
        self._check_producer(payload)
        subject = str(case_id)
        context.case_id.set(subject)
        return EventEnvelope.wrap(payload, source=self.source, subject=subject, actor=actor)

    def _check_producer(self, payload: EventPayload) -> None:
        if payload.producer != self.service:
            raise ValueError(f"{self.service} may not emit {payload.event_type} (owned by {payload.producer})")


# The columns a statement writing an outbox row in SQL fills, as `add_event`'s rows do (`seq` and
# `sent_at` are the table's): id, aggregate type and id, event type and version, the envelope as JSON,
# created_at, attempts = 0.
OUTBOX_COLUMNS = "id, aggregate_type, aggregate_id, event_type, event_version, payload, created_at, attempts"
