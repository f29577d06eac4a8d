"""The operator CLI against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from typer.testing import CliRunner

from devstack.cli import app
from services.dispatch.events import emit
from shared.api.auth import TokenVerifier
from shared.db import make_engine, make_sessionmaker, transaction
from shared.events.dispatch import ServiceRequestAcknowledged
from shared.messaging.broker import header
from shared.settings import ServiceSettings
from tests.integration.conftest import producer, read_topic

pytestmark = pytest.mark.integration


def cli(env, *args: str):
    variables = {"POSTGRES_URL": env.postgres_url, "KAFKA_BOOTSTRAP_SERVERS": env.bootstrap_servers,
                 "DISPATCH_DATABASE_URL": env.databases["dispatch"]}
    return CliRunner().invoke(app, list(args), env=variables)


async def test_token_is_accepted_by_the_services():
    result = CliRunner().invoke(app, ["token", "quality_engineer", "qe-7", "--unit", "transformers"])
    assert result.exit_code == 0, result.output
    principal = await TokenVerifier(ServiceSettings()).verify(result.output.strip())
    assert (principal.subject, principal.roles, principal.unit) == ("qe-7", {"quality_engineer"}, "transformers")


def test_migrate_creates_and_migrates_a_database(env):
    result = cli(env, "migrate", "feedback")
    assert result.exit_code == 0 and "feedback: migrated to head" in result.output


async def test_outbox_backlog_and_republish(env):
    engine = make_engine(env.settings("dispatch"))
    sessions = make_sessionmaker(engine)
    case_id = uuid.uuid4()
    async with transaction(sessions) as session:
        emit(session, ServiceRequestAcknowledged(case_id=case_id, acknowledged_by="x"), case_id=case_id, actor="t")
    await engine.dispose()
    shown = await asyncio.to_thread(cli, env, "outbox", "dispatch")
    assert shown.exit_code == 0 and shown.output.splitlines()[1].split()[0] == "dispatch"
    assert int(shown.output.splitlines()[1].split()[1]) >= 1
    again = await asyncio.to_thread(cli, env, "republish", "dispatch", str(case_id))
    assert again.exit_code == 0 and "queued for publication again" in again.output


async def test_dead_letters_list_inspect_and_redrive(env):
    service = f"ops{uuid.uuid4().hex[:6]}"
    origin = f"{service}.events"
    from shared.messaging.broker import ensure_topics

    await ensure_topics(env.settings("dispatch"), [origin, f"{service}.dlq"])
    async with producer(env) as p:
        await p.send_and_wait(f"{service}.dlq", b'{"broken": true}', key=b"case-1", headers=[
            ("dlq-error", b"invalid payload: boom"), ("dlq-origin-topic", origin.encode()),
            ("dlq-origin-partition", b"0"), ("dlq-origin-offset", b"7")])
    listed = await asyncio.to_thread(cli, env, "dlq", "list", service)
    assert listed.exit_code == 0, listed.output
    assert "1 dead letters" in listed.output and "invalid payload: boom" in listed.output
    position = listed.output.split()[0]
    partition, offset = position.split(":")
    inspected = await asyncio.to_thread(cli, env, "dlq", "inspect", service, partition, offset)
    assert "dlq-origin-offset: 7" in inspected.output and '{"broken": true}' in inspected.output
    redriven = await asyncio.to_thread(cli, env, "dlq", "redrive", service, partition, offset)
    assert redriven.exit_code == 0 and "re-drove 1" in redriven.output
    back = await read_topic(env, origin, stop_when=lambda ms: len(ms) >= 1)
    assert back[0].value == b'{"broken": true}'
    assert header(back[0].headers, "redriven-from") == f"{service}.dlq:{partition}:{offset}"
    assert header(back[0].headers, "dlq-error") is None
