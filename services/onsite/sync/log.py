"""Writing the change log, inside the caller's transaction, numbered in commit order (decision 0091).

Changes are staged on the session and inserted just before it commits, under a transaction-level
advisory lock: a change's number is taken only after every earlier-numbered change has committed (the
lock is released when the holder's commit is visible), so a reader that sees number n has seen every
committed change below n and a `since` cursor never skips a change that commits late. The lock is
held only from that insert to the end of the commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.sync import domain
from services.onsite.sync.models import VisitChange
from shared.clock import utcnow
from shared.db import table_of

_STAGED = "onsite.visit_changes"
_INSERT = insert(table_of(VisitChange))
# pg_advisory_xact_lock key of the change log's commit order (any constant unique to it).
COMMIT_ORDER_LOCK = 0x0091_5E9C
_LOCK = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=COMMIT_ORDER_LOCK)


def note_change(session: AsyncSession, *, visit_id: UUID, what: str, data: Mapping[str, Any], actor: str,
                event_id: UUID | None = None) -> None:
    """Stage a change of a visit in the session's transaction; it is logged only if that commits."""
    subject = domain.subject_of(what, data)
    staged: list[dict[str, Any]] = session.info.setdefault(_STAGED, [])
    staged.append({"visit_id": visit_id, "what": what, "entity_kind": subject.kind, "entity_id": subject.id,
                   "actor": actor, "event_id": event_id, "data": dict(data), "recorded_at": utcnow()})


@event.listens_for(Session, "before_commit")
def _write_staged_changes(session: Session) -> None:
    """Insert the transaction's changes after taking the commit-order lock (released by the commit)."""
    rows = session.info.pop(_STAGED, None)
    if rows:
        session.execute(_LOCK)
        session.execute(_INSERT, rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_staged_changes(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back unit of work logs nothing."""
    if transaction.parent is None:
        session.info.pop(_STAGED, None)
