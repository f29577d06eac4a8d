"""Per-request / per-event context: correlation and causation ids travel with the work.

The HTTP middleware sets them from headers; the consumer sets them from the incoming event,
so every event written while handling it carries the same correlation id and names its cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from uuid import uuid4

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)
# The service case the work is about (log lines carry it): from the event's subject in a
# consumer, from the `case_id` path parameter of a request, or from the last event written.
case_id: ContextVar[str | None] = ContextVar("case_id", default=None)


def current_correlation_id() -> str:
    """The correlation id of the work in progress, or a fresh one when none is set."""
    return correlation_id.get() or str(uuid4())


@contextmanager
def work_context(*, correlation: str | None, causation: str | None = None, case: str | None = None) -> Iterator[None]:
    t1 = correlation_id.set(correlation)
    t2 = causation_id.set(causation)
    t3 = case_id.set(case)
    try:
        yield
    finally:
        correlation_id.reset(t1)
        causation_id.reset(t2)
        case_id.reset(t3)
