"""Decision 0088: `make run` stopped while an event is in flight and started again loses nothing.

A stack of its own (PostgreSQL keeps its data folder, the broker is in memory): onsite is down when
the case is dispatched, so ServiceDispatched reaches dispatch's timeline and quality but waits in
the broker for onsite; the whole stack stops, taking the broker with it, and starts again with a
fresh, empty one. Onsite must open the visit, and every service must have applied the event
exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from devstack.client import StackClient, wait_for
from devstack.demo import Journey, case_timeline, prepare_and_dispatch
from devstack.servers import free_port
from devstack.stack import BY_NAME, SERVICES, plain_dsn
from devstack.supervisor import LocalStack
from tests.conftest import FAST_GROUPS, STACK_START_SECONDS

# one_clock: a restart loses nothing whatever the day (make test-calendar)
pytestmark = [pytest.mark.e2e, pytest.mark.one_clock]


def _stack(data_dir: Path, *services: str) -> LocalStack:
    """What `make run` starts, on free ports (each instance its own fresh broker), with the services
    ServiceDispatched concerns (feedback does not read dispatch's topic; fewer processes start sooner)."""
    return LocalStack(data_dir=data_dir, pg_port=free_port(), broker_port=free_port(),
                      service_ports={name: free_port() for name in services}, extra_env=FAST_GROUPS, quiet=True)


def _start_services(stack: LocalStack) -> None:
    for name in stack.service_ports:
        stack.start_service(BY_NAME[name])
    stack.wait_healthy(STACK_START_SECONDS)


def _query(stack: LocalStack, service: str, sql: str, *args: object) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(plain_dsn(stack.database_url(service)), timeout=10)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def _dispatched_and_sent(stack: LocalStack, case_id: str) -> str | None:
    rows = _query(stack, "dispatch", "SELECT id, sent_at FROM outbox_message WHERE aggregate_id = $1 "
                  "AND event_type = 'ServiceDispatched'", case_id)
    return str(rows[0]["id"]) if rows and rows[0]["sent_at"] is not None else None


def _applied(stack: LocalStack, service: str, event_id: str) -> int:
    return len(_query(stack, service, "SELECT 1 FROM processed_event WHERE event_id = $1::uuid", event_id))


def _unsent(stack: LocalStack) -> int:
    return sum(len(_query(stack, s.name, "SELECT 1 FROM outbox_message WHERE sent_at IS NULL")) for s in SERVICES)


def test_a_restart_publishes_again_what_the_stopped_broker_held(tmp_path: Path) -> None:
    first = _stack(tmp_path, "dispatch", "quality")  # onsite is down: it will miss the event
    client: StackClient | None = None
    try:
        first.start_infrastructure()
        assert not any(first.replayed.values()), "a new data folder has nothing to publish again"
        _start_services(first)
        client = StackClient(first.service_ports)
        journey = Journey(client, 60, lambda _line: None, team_size=1)
        prepare_and_dispatch(journey)
        case_id = journey.ids["case"]
        event_id = wait_for("ServiceDispatched published", lambda: _dispatched_and_sent(first, case_id), 30)
        wait_for("quality applying ServiceDispatched", lambda: _applied(first, "quality", event_id), 30)
        wait_for("dispatch's timeline applying it", lambda: _applied(first, "dispatch", event_id), 30)
        assert _applied(first, "onsite", event_id) == 0
    finally:
        if client is not None:
            client.close()
        first.stop()  # services, the broker with ServiceDispatched still unread by onsite, PostgreSQL

    second = _stack(tmp_path, "dispatch", "onsite", "quality")
    try:
        second.start_infrastructure()  # a fresh broker: what the old one held is marked unsent
        assert second.replayed["dispatch"] >= 1, second.replayed  # at least ServiceDispatched
        assert _unsent(second) > 0
        _start_services(second)
        client = StackClient(second.service_ports)
        engineer = client.as_("engineer", journey.engineers[0])

        def visits_of_the_case() -> list[dict] | None:
            r = client.http["onsite"].get("/visits", params={"case_id": case_id}, headers=engineer)
            assert r.status_code == 200, r.text
            return r.json()["items"] or None

        visits = wait_for("onsite opening the visit from the republished ServiceDispatched", visits_of_the_case, 60)
        wait_for("every outbox published again", lambda: _unsent(second) == 0, 30)
        for service in ("dispatch", "onsite", "quality"):
            assert _applied(second, service, event_id) == 1, service
        assert len(visits) == 1
        # the duplicates quality and dispatch received changed nothing: one timeline entry, one team
        dispatcher = client.as_("dispatcher", "disp-001")
        timeline = case_timeline(client, case_id, dispatcher)
        assert [e["event_type"] for e in timeline].count("ServiceDispatched") == 1
        sent = _query(second, "dispatch", "SELECT id FROM outbox_message WHERE aggregate_id = $1", case_id)
        recorded = [e["event_id"] for e in timeline if e["source"].endswith("/dispatch")]
        assert sorted(recorded) == sorted(str(r["id"]) for r in sent), "each of dispatch's events once"
    finally:
        if client is not None:
            client.close()
        second.stop()
