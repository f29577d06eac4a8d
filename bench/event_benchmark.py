"""Benchmarks 2 and 3: event latency and event throughput, outbox -> broker -> idempotent consumer.

Producer: the feedback service's outbox. The benchmark commits `FollowUpCallScheduled` events into
feedback's `outbox_message` itself (with asyncpg, as a service's transaction would: the outbox row
plus one state row, here `bench_commit(event_id)`, in one transaction), and the feedback service
process's relay publishes them to `feedback.events`. Consumer: the dispatch service process, whose
idempotent consumer records each event on the case timeline (`processed_event` + `case_event` in
one transaction, then the offset). Both services run as uvicorn processes, as in production.

What is measured, exactly, with one clock (PostgreSQL's, `track_commit_timestamp = on`):
* producing commit = `pg_xact_commit_timestamp(xmin)` of the event's `bench_commit` row (the
  producing transaction; the outbox row's own xmin changes when the relay marks it sent);
* published = commit time of the relay's "mark sent" transaction (after the broker acknowledged);
* consumed = `pg_xact_commit_timestamp(xmin)` of dispatch's `processed_event` row: the commit of
  the consuming handler's transaction.
Latency = consumed - producing commit. Throughput = events / (last consumed - first producing commit).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.common import Infra, ms, percentile, say
from shared.events import EventEnvelope
from shared.events.feedback import FollowUpCallScheduled

EVENT_TYPE = "FollowUpCallScheduled"
INSERT_SQL = """
WITH o AS (
  INSERT INTO outbox_message (id, aggregate_type, aggregate_id, event_type, event_version, payload, created_at,
                              attempts)
  VALUES ($1, 'service_case', $2, $3, 1, $4::jsonb, now(), 0) RETURNING id
) INSERT INTO bench_commit (event_id) SELECT id FROM o
"""


def envelope(case_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    payload = FollowUpCallScheduled(call_id=uuid.uuid4(), case_id=case_id, reason="service_completed",
                                    due_at=datetime.now(UTC) + timedelta(days=2))
    env = EventEnvelope(type=EVENT_TYPE, source="/fieldservice/feedback", time=datetime.now(UTC),
                        subject=str(case_id), correlationid=str(uuid.uuid4()), actor="service:feedback",
                        data=payload.model_dump(mode="json"))
    return env.id, env.model_dump_json()


class EventBench:
    def __init__(self, infra: Infra) -> None:
        self.infra = infra
        self.cases = [uuid.uuid4() for _ in range(300)]

    async def setup(self) -> None:
        conn = await asyncpg.connect(self.infra.dsn("feedback"))
        try:
            await conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (event_id uuid PRIMARY KEY)")
        finally:
            await conn.close()

    async def produce_at_rate(self, rate: float, count: int) -> list[uuid.UUID]:
        """Commit `count` events, one transaction each, started on a fixed schedule of `rate` per second."""
        pool = await asyncpg.create_pool(self.infra.dsn("feedback"), min_size=4, max_size=16)
        events = [(*envelope(self.cases[i % len(self.cases)]), str(self.cases[i % len(self.cases)]))
                  for i in range(count)]
        try:
            async def one(event_id, body, case) -> None:
                async with pool.acquire() as conn:
                    await conn.execute(INSERT_SQL, event_id, case, EVENT_TYPE, body)

            tasks = []
            started = time.perf_counter()
            for i, (event_id, body, case) in enumerate(events):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(event_id, body, case)))
            await asyncio.gather(*tasks)
        finally:
            await pool.close()
        return [e[0] for e in events]

    async def produce_backlog(self, count: int) -> list[uuid.UUID]:
        """Commit `count` events in one transaction (COPY), as a burst the pipeline then drains."""
        events = [(*envelope(self.cases[i % len(self.cases)]), str(self.cases[i % len(self.cases)]))
                  for i in range(count)]
        conn = await asyncpg.connect(self.infra.dsn("feedback"))
        try:
            async with conn.transaction():
                now = datetime.now(UTC)
                await conn.copy_records_to_table(
                    "outbox_message",
                    columns=["id", "aggregate_type", "aggregate_id", "event_type", "event_version", "payload",
                             "created_at", "attempts"],
                    records=[(eid, "service_case", case, EVENT_TYPE, 1, body, now, 0) for eid, body, case in events])
                await conn.copy_records_to_table("bench_commit", columns=["event_id"],
                                                 records=[(e[0],) for e in events])
                # COPY fires the statement trigger too; NOTIFY again to be explicit
                await conn.execute("SELECT pg_notify('outbox_pending', '')")
        finally:
            await conn.close()
        return [e[0] for e in events]

    async def wait_consumed(self, ids: list[uuid.UUID], timeout: float) -> None:
        conn = await asyncpg.connect(self.infra.dsn("dispatch"))
        try:
            deadline = time.monotonic() + timeout
            while True:
                n = await conn.fetchval(
                    "SELECT count(*) FROM processed_event WHERE consumer_group = 'dispatch' AND event_id = ANY($1)",
                    ids)
                if n >= len(ids):
                    effects = await conn.fetchval("SELECT count(*) FROM case_event WHERE event_id = ANY($1)", ids)
                    if effects != len(ids):  # processed must mean applied: the timeline row is there
                        raise AssertionError(f"{len(ids)} events processed but {effects} on the timeline")
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {n} of {len(ids)} events consumed within {timeout}s")
                await asyncio.sleep(0.2)
        finally:
            await conn.close()

    async def commit_times(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[float, float, float]]:
        """event id -> (producing commit, relay mark commit, consuming commit), epoch seconds."""
        feedback = await asyncpg.connect(self.infra.dsn("feedback"))
        dispatch = await asyncpg.connect(self.infra.dsn("dispatch"))
        try:
            produced = {r["event_id"]: r["t"].timestamp() for r in await feedback.fetch(
                "SELECT event_id, pg_xact_commit_timestamp(xmin) AS t FROM bench_commit WHERE event_id = ANY($1)", ids)}
            published = {r["id"]: r["t"].timestamp() for r in await feedback.fetch(
                "SELECT id, pg_xact_commit_timestamp(xmin) AS t FROM outbox_message WHERE id = ANY($1)", ids)}
            consumed = {r["event_id"]: r["t"].timestamp() for r in await dispatch.fetch(
                "SELECT event_id, pg_xact_commit_timestamp(xmin) AS t FROM processed_event "
                "WHERE consumer_group = 'dispatch' AND event_id = ANY($1)", ids)}
        finally:
            await feedback.close()
            await dispatch.close()
        return {i: (produced[i], published[i], consumed[i]) for i in ids}

    async def latency(self, rate: float, seconds: float) -> dict:
        ids = await self.produce_at_rate(rate, int(rate * seconds))
        await self.wait_consumed(ids, timeout=120 + seconds)
        times = await self.commit_times(ids)
        total = [(c - p) * 1000 for p, _, c in times.values()]
        to_broker = [(m - p) * 1000 for p, m, _ in times.values()]
        first = min(p for p, _, _ in times.values())
        last = max(p for p, _, _ in times.values())
        return {"rate": rate, "events": len(ids), "achieved_rate": len(ids) / (last - first) if last > first else 0,
                "p50_ms": percentile(total, 50), "p99_ms": percentile(total, 99), "max_ms": max(total),
                "relay_p50_ms": percentile(to_broker, 50), "relay_p99_ms": percentile(to_broker, 99)}

    async def throughput(self, count: int) -> dict:
        ids = await self.produce_backlog(count)
        await self.wait_consumed(ids, timeout=60 + count / 50)
        times = await self.commit_times(ids)
        start = min(p for p, _, _ in times.values())
        relay_end = max(m for _, m, _ in times.values())
        end = max(c for _, _, c in times.values())
        return {"events": count, "seconds": end - start, "per_second": count / (end - start),
                "relay_seconds": relay_end - start, "relay_per_second": count / (relay_end - start)}


def run(infra: Infra, rates: list[float], latency_seconds: float, backlogs: list[int]) -> dict:
    infra.start_service("dispatch")
    infra.start_service("feedback")
    bench = EventBench(infra)
    results: dict = {"latency": [], "throughput": [], "latency_seconds": latency_seconds}
    try:
        asyncio.run(bench.setup())
        say("events: warming up (consumer group join)")
        asyncio.run(bench.latency(20, 2))
        for rate in rates:
            r = asyncio.run(bench.latency(rate, latency_seconds))
            results["latency"].append(r)
            say(f"events at {rate:g}/s: p50 {r['p50_ms']:.1f} ms p99 {r['p99_ms']:.1f} ms")
        for count in backlogs:
            r = asyncio.run(bench.throughput(count))
            results["throughput"].append(r)
            say(f"events backlog {count}: {r['per_second']:.0f}/s end to end, relay {r['relay_per_second']:.0f}/s")
    finally:
        infra.stop_service("feedback")
        infra.stop_service("dispatch")
    return results


def latency_table(res: dict) -> str:
    lines = [
        "Producer: the benchmark commits `FollowUpCallScheduled` events into the **feedback** service's outbox, "
        "one transaction per event (outbox row + one state row), on a fixed schedule; the feedback process's "
        "relay publishes them; the **dispatch** process's idempotent consumer applies them (timeline row + "
        "processed-event row in one transaction, then the offset). Both services run as uvicorn processes. "
        "Latency = commit time of dispatch's consuming transaction - commit time of the producing "
        "transaction, both read from PostgreSQL (`track_commit_timestamp = on`, `pg_xact_commit_timestamp`), "
        "so one clock and no sampling. *to broker* = producing commit -> the relay's \"mark sent\" commit "
        f"(after the broker's acknowledgement). {res['latency_seconds']:g} s per rate, after a warm-up.",
        "",
        "| offered rate | events | achieved | p50 commit -> commit | p99 | max | to broker p50 / p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in res["latency"]:
        lines.append(f"| {r['rate']:g}/s | {r['events']} | {r['achieved_rate']:.0f}/s | {ms(r['p50_ms'])} "
                     f"| {ms(r['p99_ms'])} | {ms(r['max_ms'])} | {ms(r['relay_p50_ms'])} / {ms(r['relay_p99_ms'])} |")
    return "\n".join(lines)


def throughput_table(res: dict) -> str:
    lines = [
        "A backlog of N events is committed into feedback's outbox in one transaction (COPY); the relay "
        "drains it to the broker while dispatch's consumer applies it. End to end = N / (last consuming "
        "commit - the producing commit); relay = N / (last \"mark sent\" commit - the producing commit). "
        "Same processes and clock as above.",
        "",
        "| backlog | end to end (outbox -> broker -> consumer commit) | time | relay alone (outbox -> broker) |",
        "|---|---|---|---|",
    ]
    for r in res["throughput"]:
        lines.append(f"| {r['events']:,} | **{r['per_second']:.0f}/s** | {r['seconds']:.1f} s "
                     f"| {r['relay_per_second']:.0f}/s |")
    return "\n".join(lines)


def targets(res: dict) -> list[tuple[str, bool, str]]:
    out = []
    at200 = [r for r in res["latency"] if r["rate"] == 200]
    if at200:
        r = at200[0]
        out.append(("event p99 < 100 ms at 200 events/s", r["p99_ms"] < 100, f"p99 {r['p99_ms']:.1f} ms"))
    best = max(r["per_second"] for r in res["throughput"])
    out.append((">= 2,000 events/s through outbox -> broker -> consumer", best >= 2000, f"best {best:.0f}/s"))
    return out


def dumps(res: dict) -> str:
    return json.dumps(res, default=str)
