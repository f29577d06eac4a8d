"""Fixtures for the feedback service: an in-process app with a controllable clock, and helpers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.feedback.calls import service as calls
from services.feedback.calls.service import CallPolicy
from shared.db import transaction
from shared.events import EventEnvelope
from shared.events.onsite import ServiceCompleted
from shared.messaging.tables import OutboxMessage
from tests.integration.conftest import bearer, running_app

# Monday 30 November 2026, 10:00 in Shanghai: two business days later the call is due on Wednesday.
COMPLETED_AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
DUE_AT = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
CALL_TIME = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday 11:00 local: the call is due


@pytest.fixture(scope="module")
async def feedback_app(env):
    async with running_app(env, "feedback", consumer_enabled=False, relay_enabled=False,
                           follow_up_sweep_seconds=3600) as (app, client):
        app.state.clock.set(CALL_TIME)
        yield app, client


@pytest.fixture
async def app(feedback_app) -> FastAPI:
    feedback_app[0].state.clock.set(CALL_TIME)
    return feedback_app[0]


@pytest.fixture
async def client(feedback_app):
    return feedback_app[1]


def agent(env, name: str) -> dict[str, str]:
    return bearer(env, "call_centre_agent", name)


def tool(env, key: str | None = None) -> dict[str, str]:
    headers = bearer(env, "call_centre_tool", "cc-tool")
    if key:
        headers["Idempotency-Key"] = key
    return headers


def completed_event(**overrides: Any) -> ServiceCompleted:
    values: dict[str, Any] = {
        "case_id": uuid.uuid4(), "visit_id": uuid.uuid4(), "completed_at": COMPLETED_AT,
        "customer_name": "Jiangsu Grid Substation Co.", "region": "east", "equipment_type": "GIS-126kV",
        "engineer_ids": ["eng-1", "eng-2"], "receipt_rating": 5, **overrides,
    }
    return ServiceCompleted(**values)


def envelope_of(payload, source: str = "onsite") -> EventEnvelope:
    return EventEnvelope.wrap(payload, source=f"/fieldservice/{source}", subject=str(payload.case_id),
                              actor="eng-1")


async def schedule_call(app: FastAPI, **overrides: Any) -> uuid.UUID:
    """A call scheduled as the ServiceCompleted handler does it (the consumer is off in HTTP tests)."""
    event = completed_event(**overrides)
    async with transaction(app.state.runtime.sessions) as session:
        call = await calls.schedule_after_service(
            session=session, envelope=envelope_of(event), event=event,
            policy=CallPolicy.from_settings(app.state.settings), now=app.state.clock.now())
    assert call is not None
    return call.id


async def outbox(app: FastAPI, event_type: str, **match: str) -> list[dict]:
    """Events of this type staged by feedback whose data has these values."""
    async with app.state.runtime.sessions() as session:
        rows = (await session.execute(select(OutboxMessage).where(OutboxMessage.event_type == event_type))).scalars()
        return [r.payload["data"] for r in rows
                if all(r.payload["data"].get(k) == v for k, v in match.items())]
