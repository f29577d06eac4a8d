"""The outbox relay: publishes committed outbox rows to Kafka, in order, then marks them sent.

One relay per service is active at a time: it holds a PostgreSQL advisory lock on the same
connection it reads and marks rows with. Other replicas stand by and try the lock every
second; if the active process dies its connection closes, the lock is released and a standby
takes over. A crash between publishing and marking re-publishes those rows: consumers
de-duplicate on the event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import zlib

import asyncpg
from aiokafka import AIOKafkaProducer

from shared import failpoints
from shared.clock import timestamp
from shared.events.registry import redact
from shared.messaging.broker import ensure_topics_until_done, make_producer
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

FETCH_SQL = """
SELECT seq, id, aggregate_id, event_type, payload FROM outbox_message
WHERE sent_at IS NULL ORDER BY seq LIMIT $1
"""
MARK_SQL = "UPDATE outbox_message SET sent_at = now(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])"
FORGET_SQL = "UPDATE outbox_message SET payload = $2::jsonb WHERE seq = $1"
FAIL_SQL = "UPDATE outbox_message SET attempts = attempts + 1, last_error = $2 WHERE seq = $1"


def relay_lock_key(service: str) -> int:
    """A stable 63-bit advisory lock key per service."""
    return zlib.crc32(f"outbox-relay:{service}".encode())


class OutboxRelay:
    """Background task publishing a service's outbox. `run()` until `stop` is set."""

    def __init__(self, settings: ServiceSettings, *, standby_retry_s: float = 1.0) -> None:
        self.settings = settings
        self.standby_retry_s = standby_retry_s
        self.active = False
        self.published = 0
        self._wake = asyncio.Event()
        # Test hook: called after publishing and before marking (fault injection).
        self.after_publish_hook = None

    async def run(self, stop: asyncio.Event) -> None:
        if not await ensure_topics_until_done(self.settings, stop):
            return
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._run_while_leader(stop)
                backoff = 0.2
            except Exception as exc:
                log.warning("outbox relay error, retrying in %.1fs: %r", backoff, exc)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5)

    async def _run_while_leader(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.settings.asyncpg_dsn, timeout=5)
        producer: AIOKafkaProducer | None = None
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", relay_lock_key(self.settings.service_name)):
                await _sleep_or_stop(stop, self.standby_retry_s)
                return
            self.active = True
            log.info("outbox relay of %s is active", self.settings.service_name)
            await conn.add_listener("outbox_pending", lambda *_: self._wake.set())
            producer = make_producer(self.settings)
            await producer.start()
            poll = self.settings.outbox_poll_interval_ms / 1000
            while not stop.is_set():
                self._wake.clear()
                sent = await self._publish_batch(conn, producer)
                if sent < self.settings.outbox_batch_size:
                    await _wait_any(self._wake, stop, timeout=poll)
        finally:
            self.active = False
            if producer is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(producer.stop(), 5)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    async def _publish_batch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        rows = await conn.fetch(FETCH_SQL, self.settings.outbox_batch_size)
        if not rows:
            return 0
        failpoints.hit("relay.before_publish")
        topic = self.settings.own_topic
        futures = []
        for row in rows:
            envelope = row["payload"]
            value = envelope.encode() if isinstance(envelope, str) else json.dumps(envelope).encode()
            headers = [
                ("event-id", str(row["id"]).encode()),
                ("event-type", row["event_type"].encode()),
            ]
            envelope_fields = envelope if isinstance(envelope, dict) else json.loads(envelope)
            for name in ("traceparent", "tracestate"):
                if envelope_fields.get(name):
                    headers.append((name, envelope_fields[name].encode()))
            futures.append(await producer.send(topic, value=value, key=row["aggregate_id"].encode(), headers=headers))
        results = await asyncio.gather(*futures, return_exceptions=True)
        failpoints.hit("relay.after_publish")
        if self.after_publish_hook is not None:
            await self.after_publish_hook(rows)
        ok = [row["seq"] for row, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
        if ok:
            await conn.execute(MARK_SQL, ok)
            self.published += len(ok)
            await forget_secrets(conn, [row for row, res in zip(rows, results, strict=True)
                                        if not isinstance(res, BaseException)])
        failed = [(row, res) for row, res in zip(rows, results, strict=True) if isinstance(res, BaseException)]
        if failed:
            row, err = failed[0]
            await conn.execute(FAIL_SQL, row["seq"], repr(err)[:500])
            raise RuntimeError(f"{len(failed)} of {len(rows)} events not published: {err!r}")
        return len(rows)


async def forget_secrets(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> None:
    """Once published, an event's secret fields (a one-time link's URL) are no longer kept in the outbox."""
    for row in rows:
        envelope = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
        data = envelope.get("data") or {}
        kept = redact(envelope.get("type", row["event_type"]), int(envelope.get("version", 1)), data)
        if kept is not data:
            await conn.execute(FORGET_SQL, row["seq"], json.dumps({**envelope, "data": kept}))


async def outbox_backlog(conn: asyncpg.Connection) -> tuple[int, float]:
    """Unsent rows and the age in seconds of the oldest one."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, min(created_at) AS oldest FROM outbox_message WHERE sent_at IS NULL"
    )
    assert row is not None  # an aggregate without GROUP BY always returns one row
    age = 0.0 if row["oldest"] is None else max(0.0, timestamp() - row["oldest"].timestamp())
    return int(row["n"]), age


async def _wait_any(*events: asyncio.Event, timeout: float) -> None:
    """Return when any event is set or the timeout passes."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
