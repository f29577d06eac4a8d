"""Integration fixtures: one migrated database per service, apps run in-process with lifespan."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from sqlalchemy import select

from devstack.client import wait_for  # noqa: F401  (re-exported for tests)
from devstack.stack import SERVICES, create_databases, migrate_async
from shared.api.auth import issue_dev_token
from shared.messaging.broker import ensure_topics
from shared.messaging.tables import OutboxMessage
from shared.settings import ServiceSettings

SETTINGS_CLASSES = {
    "dispatch": "services.dispatch.settings:DispatchSettings",
    "onsite": "services.onsite.settings:OnsiteSettings",
    "quality": "services.quality.settings:QualitySettings",
    "feedback": "services.feedback.settings:FeedbackSettings",
}


def _load(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@dataclass
class TestEnv:
    postgres_url: str
    bootstrap_servers: str
    databases: dict[str, str]

    def settings(self, service: str, **overrides: Any) -> ServiceSettings:
        cls = _load(SETTINGS_CLASSES[service])
        values = {
            "database_url": self.databases[service],
            "kafka_bootstrap_servers": self.bootstrap_servers,
            "environment": "test",
            "log_json": False,
            "outbox_poll_interval_ms": 100,
            "consumer_retry_backoff_ms": 20,
            "consumer_session_timeout_ms": 3000,
            "consumer_heartbeat_interval_ms": 300,
            "consumer_rebalance_timeout_ms": 500,
            # many apps start in this one process: freezing each one's objects would keep them all
            "gc_gen0_threshold": 0,
            **overrides,
        }
        return cls(**values)


@pytest.fixture(scope="session")
async def env(infra) -> TestEnv:
    names = {s.name: f"it_{s.name}" for s in SERVICES}
    await create_databases(infra.postgres_url, list(names.values()))
    for service, db in names.items():
        await migrate_async(service, f"{infra.postgres_url}/{db}")
    test_env = TestEnv(infra.postgres_url, infra.bootstrap_servers,
                       {svc: f"{infra.postgres_url}/{db}" for svc, db in names.items()})
    await ensure_topics(test_env.settings("dispatch"))
    return test_env


@asynccontextmanager
async def running_app(env: TestEnv, service: str, **overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A service app with its lifespan (relay, consumer) and an HTTP client bound to it."""
    settings = env.settings(service, **overrides)
    create_app = _load(f"services.{service}.main:create_app")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


@asynccontextmanager
async def http_only(env: TestEnv, service: str,
                    tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A service over HTTP only (no consumer group join), its evidence in a fresh folder, capped at 4 KiB."""
    folder = tmp_path_factory.mktemp("evidence")
    async with running_app(env, service, consumer_enabled=False, evidence_dir=str(folder),
                           evidence_max_bytes=4096) as running:
        yield running


def bearer(env: TestEnv, role: str, subject: str, **claims: Any) -> dict[str, str]:
    token = issue_dev_token(env.settings("dispatch"), subject=subject, roles=[role], **claims)
    return {"Authorization": f"Bearer {token}"}


def refused_gate(r: httpx.Response, gate: str) -> list[str]:
    """The missing conditions of a 409 gate-refused problem from `gate` (fails on any other answer)."""
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["type"].endswith("/gate-refused") and body["gate"] == gate, body
    return body["missing_conditions"]


async def events_of(app: FastAPI, case_id: str, event_type: str) -> list[dict]:
    """The payloads of one event type a service wrote to its outbox for a case, oldest first."""
    async with app.state.sessions() as session:
        rows = (await session.execute(select(OutboxMessage).where(
            OutboxMessage.aggregate_id == case_id, OutboxMessage.event_type == event_type)
            .order_by(OutboxMessage.seq))).scalars()
        return [r.payload.get("data", r.payload) for r in rows]


class PinnedClock:
    """A worker's clock: a fixed instant the test moves (nothing depends on today's date)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def every_page(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> list[dict]:
    """The items of a keyset-paginated list, page after page (each asked with the cursor the last one gave)."""
    items: list[dict] = []
    cursor = None
    while True:
        page = (await client.get(path, headers=headers, params={**params, **({"cursor": cursor} if cursor else {})}))
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return items


async def wait_async(what: str, probe, timeout: float = 15.0, interval: float = 0.05):
    """Await `probe()` until it returns something truthy, or fail naming `what`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@asynccontextmanager
async def producer(env: TestEnv) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=env.bootstrap_servers, enable_idempotence=False)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def read_topic(env: TestEnv, topic: str, *, stop_when, timeout: float = 15.0) -> list:
    """Read a topic from the beginning (no group) until `stop_when(messages)` holds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=env.bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        messages: list = []
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                messages.extend(records)
            if stop_when(messages):
                return messages
        raise AssertionError(f"timed out reading {topic}: {len(messages)} messages read")
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or {0}
