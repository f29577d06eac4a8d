"""The idempotent consumer: a consumer group per service with manual offset commits.

For each message: parse the envelope, run the service's handlers and record the event id as
processed, all in one database transaction; commit the offset after. The messages of one
partition fetched together share that transaction (one commit per batch, decision 0061); if
anything in the batch fails it rolls back and each message is processed on its own. A redelivered event
finds its id recorded and changes nothing. Infrastructure failures (database or broker
unreachable) are retried without limit, never skipped; a handler that keeps failing, or a
message that cannot be parsed, goes to the service's dead-letter topic with the error and its
origin in headers, and the partition moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import context, failpoints
from shared.db import transaction
from shared.errors import is_busy, is_unavailable
from shared.events import EventEnvelope, EventPayload, UnknownEventType
from shared.messaging.broker import ensure_topics_until_done, make_producer
from shared.messaging.tables import ProcessedEvent
from shared.settings import ServiceSettings
from shared.tracing import consuming_span

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, EventEnvelope, Any], Awaitable[None]]
# Runs once per applied batch with its new events in order (see `EventHandlers.on_batch`).
BatchHandler = Callable[[AsyncSession, list[EventEnvelope]], Awaitable[None]]


class EventHandlers:
    """The events a service reacts to, registered by their payload class: `@handlers.on(ServiceDispatched)`.

    A class names the event's type and version exactly and is what the handler receives, so a
    misspelt type cannot register a handler that never runs, and every field a handler reads is one
    the event model declares.
    """

    def __init__(self) -> None:
        self._by_type: dict[str, list[Handler]] = {}
        self._batch: list[BatchHandler] = []

    def on(self, *events: type[EventPayload]) -> Callable[[Handler], Handler]:
        for cls in events:
            if not (isinstance(cls, type) and issubclass(cls, EventPayload) and hasattr(cls, "event_type")):
                raise TypeError(f"handlers are registered by event class, not {cls!r}")

        def register(fn: Handler) -> Handler:
            for cls in events:
                self._by_type.setdefault(cls.event_type, []).append(fn)
            return fn

        return register

    def on_any(self, fn: Handler) -> Handler:
        """Register a handler for every event of the subscribed topics (e.g. a case timeline)."""
        self._by_type.setdefault("*", []).append(fn)
        return fn

    def on_batch(self, fn: BatchHandler) -> BatchHandler:
        """Register a handler for every event of the subscribed topics that runs once per applied batch, after
        each event's own handlers, with the batch's new events in order: work that can be done set-based (one
        statement per table for the batch instead of one per event) or once per case."""
        self._batch.append(fn)
        return fn

    def copy(self) -> EventHandlers:
        """Another registry with the same handlers, to which one app adds its own (bound to its settings)."""
        other = EventHandlers()
        other._by_type = {event_type: list(fns) for event_type, fns in self._by_type.items()}
        other._batch = list(self._batch)
        return other

    def for_type(self, event_type: str) -> list[Handler]:
        return [*self._by_type.get(event_type, []), *self._by_type.get("*", [])]

    def handles(self, event_type: str) -> bool:
        return bool(self._batch) or bool(self.for_type(event_type))

    @property
    def batch(self) -> list[BatchHandler]:
        return self._batch

    @property
    def event_types(self) -> set[str]:
        return set(self._by_type)


class PoisonMessage(Exception):
    """A message that can never be processed: it goes to the dead-letter topic at once."""


def _is_transient(exc: BaseException) -> bool:
    """Failures of infrastructure or contention, not of the message: retried until they pass."""
    return is_unavailable(exc) or is_busy(exc)


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0
    lag: dict[str, int] = field(default_factory=dict)


class EventConsumer:
    """Consumes the given topics as consumer group `settings.service_name`."""

    def __init__(
        self,
        settings: ServiceSettings,
        sessions: async_sessionmaker[AsyncSession],
        handlers: EventHandlers,
        topics: list[str],
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.handlers = handlers
        self.topics = topics
        self.group = settings.service_name
        self.stats = ConsumerStats()
        self.on_processed: Callable[[EventEnvelope, float], None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq: AIOKafkaProducer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        if not self.topics or not await ensure_topics_until_done(self.settings, stop, self.topics):
            return
        backoff = 0.5
        while not stop.is_set():
            try:
                await self._consume(stop)
            except Exception as exc:
                log.warning("consumer %s failed, restarting in %.1fs: %r", self.group, backoff, exc)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 10)

    async def _consume(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group,
            client_id=f"{self.group}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.settings.consumer_batch_size,
            # the dev broker does not answer a waiting fetch when data arrives: bound the wait
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            session_timeout_ms=self.settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=self.settings.consumer_heartbeat_interval_ms,
            rebalance_timeout_ms=self.settings.consumer_rebalance_timeout_ms,
        )
        self._dlq = make_producer(self.settings)
        self._consumer = consumer
        try:
            # Joining the group can take seconds; a stop request must not wait for it.
            if not await _unless_stopped(consumer.start(), stop):
                return
            await self._dlq.start()
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=self.settings.consumer_batch_size)
                for tp, messages in batch.items():
                    if stop.is_set():
                        return
                    if not messages:
                        continue
                    await self._process_batch(messages, stop)
                    if stop.is_set():
                        return  # a message may be unfinished: its offset stays uncommitted
                    # Offsets are committed after the handlers' transaction, per partition batch, so a
                    # crash redelivers at most that batch; the processed-event record absorbs it.
                    await consumer.commit({tp: messages[-1].offset + 1})
                    self._record_lag(consumer, tp, messages[-1].offset + 1)
        finally:
            self._consumer = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(consumer.stop(), 10)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._dlq.stop(), 5)

    def _record_lag(self, consumer: AIOKafkaConsumer, tp: TopicPartition, next_offset: int) -> None:
        highwater = consumer.highwater(tp)
        if highwater is not None:
            self.stats.lag[f"{tp.topic}:{tp.partition}"] = max(0, highwater - next_offset)

    async def _process_batch(self, messages: list[ConsumerRecord], stop: asyncio.Event) -> None:
        """Apply one partition's messages in one transaction; any trouble, and each goes alone.

        The fast path parses every message first; a batch holding anything unparseable, of an
        unknown type or with an invalid payload goes message by message (which dead-letters). If a
        handler fails, or the database does, the whole transaction rolls back and the messages are
        processed one by one with their own retries and dead-lettering, as if never batched.
        """
        items: list[tuple[EventEnvelope, EventPayload, list[Handler]]] = []
        for message in messages:
            try:
                envelope = EventEnvelope.from_bytes(message.value)
                payload = envelope.payload()
            except (ValueError, ValidationError, TypeError, UnknownEventType):
                items = []
                break
            if self.handlers.handles(envelope.type):
                items.append((envelope, payload, self.handlers.for_type(envelope.type)))
        else:
            if len(messages) == 1 and items:
                items = []  # one message: the ordinary path, with its own retries
            elif not items:
                return  # nothing this service handles
        if items:
            started = time.perf_counter()
            try:
                applied = await self._apply_many(items)
            except Exception as exc:
                log.info("batch of %d rolled back, processing one by one: %r", len(items), exc)
            else:
                failpoints.hit("consumer.after_commit")
                seconds = (time.perf_counter() - started) / len(items)
                for (envelope, _, _), done in zip(items, applied, strict=True):
                    if done:
                        self.stats.processed += 1
                        if self.on_processed:
                            self.on_processed(envelope, seconds)
                    else:
                        self.stats.duplicates += 1
                return
        for message in messages:
            if stop.is_set():
                return
            await self._process(message, stop)

    async def _apply_many(self, items: list[tuple[EventEnvelope, EventPayload, list[Handler]]]) -> list[bool]:
        """Apply events in one transaction, each once: the one path every event takes, alone or batched.

        Each event runs in its own log context and tracing span, then the failpoint; the handlers' rows
        go in together at the end (one multi-row INSERT per table), then the batch handlers run once with
        the new events. Returns, per event, whether it was new (False: already processed, or twice in the
        batch).
        """
        applied: list[bool] = []
        async with transaction(self.sessions) as session:
            # one statement records the whole batch as processed; the ids it returns are the new ones
            # (an id already recorded, or twice in the batch, comes back at most once)
            fresh = set((await session.execute(
                insert(ProcessedEvent)
                .values([{"consumer_group": self.group, "event_id": e.id, "event_type": e.type}
                         for e, _, _ in items])
                .on_conflict_do_nothing()
                .returning(col(ProcessedEvent.event_id))
            )).scalars())
            for envelope, payload, handlers in items:
                if envelope.id not in fresh:
                    applied.append(False)
                    continue
                fresh.discard(envelope.id)
                with (
                    context.work_context(correlation=envelope.correlationid, causation=str(envelope.id),
                                         case=envelope.subject),
                    consuming_span(self.group, envelope.type, envelope.traceparent, envelope.tracestate),
                ):
                    for handler in handlers:
                        await handler(session, envelope, payload)
                    failpoints.hit("consumer.in_handler")
                applied.append(True)
            new = [envelope for (envelope, _, _), done in zip(items, applied, strict=True) if done]
            if new:
                for batch_handler in self.handlers.batch:
                    await batch_handler(session, new)
            await session.flush()
        return applied

    async def _process(self, message: ConsumerRecord, stop: asyncio.Event) -> None:
        try:
            envelope = EventEnvelope.from_bytes(message.value)
        except (ValueError, ValidationError, TypeError) as exc:
            await self._dead_letter(message, f"unparseable envelope: {exc}", stop)
            return
        handlers = self.handlers.for_type(envelope.type)
        handled = self.handlers.handles(envelope.type)
        try:
            payload = envelope.payload()
        except UnknownEventType as exc:
            await self._dead_letter(message, str(exc), stop)
            return
        except ValidationError as exc:
            if handled:
                await self._dead_letter(message, f"invalid payload: {exc}", stop)
            return
        if not handled:
            return
        attempt = 0
        while not stop.is_set():
            started = time.perf_counter()
            try:
                [applied] = await self._apply_many([(envelope, payload, handlers)])
                failpoints.hit("consumer.after_commit")
                if applied:
                    self.stats.processed += 1
                    if self.on_processed:
                        self.on_processed(envelope, time.perf_counter() - started)
                else:
                    self.stats.duplicates += 1
                return
            except PoisonMessage as exc:
                await self._dead_letter(message, f"rejected by handler: {exc}", stop)
                return
            except Exception as exc:
                self.stats.retries += 1
                if _is_transient(exc):
                    log.warning("transient failure on %s %s, retrying: %r", envelope.type, envelope.id, exc)
                else:
                    attempt += 1
                    if attempt >= self.settings.consumer_max_attempts:
                        log.error("handler failed %d times on %s %s: %r", attempt, envelope.type, envelope.id, exc)
                        await self._dead_letter(message, f"handler failed {attempt} times: {exc!r}", stop)
                        return
                delay = min(self.settings.consumer_retry_backoff_ms / 1000 * 2 ** min(attempt, 6), 10)
                await _sleep_or_stop(stop, delay)

    async def _dead_letter(self, message: ConsumerRecord, error: str, stop: asyncio.Event) -> None:
        """Send the message to `<service>.dlq` with its error and origin; retried until it lands."""
        headers = [
            *(message.headers or []),
            ("dlq-error", error[:2000].encode()),
            ("dlq-origin-topic", message.topic.encode()),
            ("dlq-origin-partition", str(message.partition).encode()),
            ("dlq-origin-offset", str(message.offset).encode()),
            ("dlq-consumer-group", self.group.encode()),
        ]
        delay = 0.2
        while not stop.is_set():
            try:
                assert self._dlq is not None
                await self._dlq.send_and_wait(
                    self.settings.dead_letter_topic, value=message.value, key=message.key, headers=headers
                )
                self.stats.dead_lettered += 1
                log.error("dead-lettered %s:%s@%s: %s", message.topic, message.partition, message.offset, error)
                return
            except Exception as exc:
                log.warning("dead-letter publish failed, retrying: %r", exc)
                await _sleep_or_stop(stop, delay)
                delay = min(delay * 2, 5)


async def _unless_stopped(work: Awaitable[object], stop: asyncio.Event) -> bool:
    """Run `work` unless `stop` is set first (then `work` is cancelled); True if it finished."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return False


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
