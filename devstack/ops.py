"""Operator actions behind the CLI: outbox backlog, dead letters, re-publishing a case."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from devstack.stack import plain_dsn
from shared.messaging.broker import header
from shared.messaging.relay import outbox_backlog


@dataclass
class Backlog:
    service: str
    unsent: int
    oldest_age_s: float
    sent: int


async def backlog(service: str, database_url: str) -> Backlog:
    """Unsent and sent outbox rows of one service, and the age of the oldest unsent one."""
    conn = await asyncpg.connect(plain_dsn(database_url), timeout=10)
    try:
        unsent, age = await outbox_backlog(conn)
        sent = await conn.fetchval("SELECT count(*) FROM outbox_message WHERE sent_at IS NOT NULL")
        return Backlog(service, unsent, age, int(sent))
    finally:
        await conn.close()


async def republish_case(database_url: str, case_id: str) -> int:
    """Mark a case's events unsent so the relay publishes them again, in their original order.

    Safe because consumers de-duplicate on the event id: only a consumer that lost its state
    (a restored database) applies them again.
    """
    conn = await asyncpg.connect(plain_dsn(database_url), timeout=10)
    try:
        result = await conn.execute(
            "UPDATE outbox_message SET sent_at = NULL WHERE aggregate_id = $1 AND sent_at IS NOT NULL", case_id)
        await conn.execute("SELECT pg_notify('outbox_pending', '')")
        return int(result.split()[-1])
    finally:
        await conn.close()


@dataclass
class DeadLetter:
    partition: int
    offset: int
    key: str | None
    error: str | None
    origin_topic: str | None
    origin_partition: str | None
    origin_offset: str | None
    value: bytes
    headers: list[tuple[str, bytes]]


def _to_dead_letter(record: ConsumerRecord) -> DeadLetter:
    return DeadLetter(
        partition=record.partition, offset=record.offset, key=record.key.decode() if record.key else None,
        error=header(record.headers, "dlq-error"), origin_topic=header(record.headers, "dlq-origin-topic"),
        origin_partition=header(record.headers, "dlq-origin-partition"),
        origin_offset=header(record.headers, "dlq-origin-offset"), value=record.value,
        headers=list(record.headers or []),
    )


async def dead_letters(bootstrap: str, service: str, timeout: float = 5.0) -> list[DeadLetter]:
    """Every message in `<service>.dlq`, read from the beginning without a consumer group."""
    topic = f"{service}.dlq"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: list[DeadLetter] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                break
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                found.extend(_to_dead_letter(r) for r in records)
        return sorted(found, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


async def redrive(bootstrap: str, service: str, partition: int, offset: int) -> DeadLetter:
    """Send one dead letter back to its origin topic, for the consumer to try again."""
    letters = [d for d in await dead_letters(bootstrap, service) if (d.partition, d.offset) == (partition, offset)]
    if not letters:
        raise LookupError(f"no dead letter at {service}.dlq partition {partition} offset {offset}")
    letter = letters[0]
    if not letter.origin_topic:
        raise LookupError("the dead letter does not name its origin topic")
    headers = [(k, v) for k, v in letter.headers if not k.startswith("dlq-")]
    headers.append(("redriven-from", f"{service}.dlq:{partition}:{offset}".encode()))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(letter.origin_topic, letter.value,
                                     key=letter.key.encode() if letter.key else None, headers=headers)
    finally:
        await producer.stop()
    return letter
