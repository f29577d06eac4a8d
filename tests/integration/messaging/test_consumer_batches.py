"""The consumer applies a partition's fetched messages in one transaction (decision 0061).

Events waiting before the consumer starts arrive as one batch: each is applied once, in order,
duplicates in the batch have no second effect, and a handler failure rolls the batch back and
processes each message alone (the bad one dead-lettered, the others applied once).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from shared.messaging.broker import ensure_topics
from shared.messaging.tables import ProcessedEvent
from tests.integration.conftest import producer, wait_async
from tests.integration.messaging.acknowledgements import acknowledgement, consuming, own_topic

pytestmark = pytest.mark.integration


async def _run_batch(env, names: list[str], duplicate_first: bool):
    settings, topic = own_topic(env, "batch")
    await ensure_topics(settings, [topic, settings.dead_letter_topic])
    case_id = uuid.uuid4()
    envelopes = [acknowledgement(case_id, n) for n in names]
    values = [e.to_bytes() for e in envelopes]
    if duplicate_first:
        values.insert(1, values[0])
    async with producer(env) as p:  # all waiting before the consumer starts: one fetch, one batch
        for value in values:
            await p.send(topic, value, key=str(case_id).encode())
        await p.flush()
    async with consuming(settings, topic, _seen) as (consumer, sessions):
        good = [e.id for e, n in zip(envelopes, names, strict=True) if n != "bug"]

        async def processed() -> list:
            async with sessions() as s:
                return list((await s.execute(select(ProcessedEvent.event_id).where(
                    ProcessedEvent.consumer_group == settings.service_name))).scalars())

        await wait_async("every good event processed", lambda: _all(processed, good), timeout=30)
        if "bug" in names:
            await wait_async("the bad one dead-lettered",
                             lambda: asyncio.sleep(0, consumer.stats.dead_lettered == 1), timeout=30)
        committed = sorted(str(i) for i in await processed())
        return consumer, committed, sorted(str(i) for i in good)


def _seen(session, by: str) -> None:
    session.info.setdefault("seen", []).append(by)


async def _all(probe, wanted) -> bool:
    return set(wanted) <= set(await probe())


async def test_a_batch_with_a_duplicate_is_applied_once(env):
    consumer, committed, good = await _run_batch(env, [f"ok{i}" for i in range(20)], duplicate_first=True)
    assert committed == good
    assert consumer.stats.processed == 20 and consumer.stats.duplicates == 1
    assert consumer.stats.dead_lettered == 0


async def test_a_failing_handler_rolls_the_batch_back_and_each_goes_alone(env):
    consumer, committed, good = await _run_batch(env, ["ok1", "ok2", "bug", "ok3"], duplicate_first=False)
    assert committed == good  # the bad event is not recorded as processed
    assert consumer.stats.processed == 3 and consumer.stats.dead_lettered == 1
