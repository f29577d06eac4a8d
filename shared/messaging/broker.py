"""Broker plumbing: producer settings, explicit topic creation, message headers."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import ALL_SERVICES, ServiceSettings

log = logging.getLogger(__name__)


def make_producer(settings: ServiceSettings, **overrides: object) -> AIOKafkaProducer:
    """A producer with acks=all; idempotence is a setting because the dev broker lacks it."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "acks": "all",
        "enable_idempotence": settings.kafka_enable_idempotence,
        "linger_ms": 2,
        "request_timeout_ms": 10_000,
        "client_id": f"{settings.service_name}-producer",
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def all_topics(settings: ServiceSettings) -> list[str]:
    """Every topic of the system: one events topic and one dead-letter topic per service."""
    return [t for s in ALL_SERVICES for t in (f"{s}.events", f"{s}.dlq")]


async def ensure_topics(settings: ServiceSettings, topics: list[str] | None = None) -> None:
    """Create topics explicitly (the dev broker does not auto-create); existing ones are kept."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=10_000,
        client_id=f"{settings.service_name}-admin",
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in (topics or all_topics(settings)) if t not in existing]
        for name in wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([
                    NewTopic(name, settings.kafka_topic_partitions, settings.kafka_replication_factor)
                ])
    finally:
        await admin.close()


async def ensure_topics_until_done(
    settings: ServiceSettings, stop: asyncio.Event, extra: list[str] | None = None
) -> bool:
    """Retry topic creation until it succeeds or the service stops (the broker may be down)."""
    delay = 0.5
    topics = sorted({*all_topics(settings), settings.own_topic, settings.dead_letter_topic, *(extra or [])})
    while not stop.is_set():
        try:
            await ensure_topics(settings, topics)
            return True
        except Exception as exc:  # broker not reachable yet: keep trying, never crash the service
            log.warning("topic set-up failed, retrying in %.1fs: %s", delay, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 10)
    return False


def header(headers: list[tuple[str, bytes]] | None, name: str) -> str | None:
    for key, value in headers or []:
        if key == name:
            return value.decode()
    return None
