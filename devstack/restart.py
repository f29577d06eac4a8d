"""Decision 0088: a restart of `make run` loses no event.

The dev broker (Tansu, in-memory storage) starts empty every time, while PostgreSQL keeps its data
in `.data/postgres`: an event the relay published (its outbox row marked sent) but that some
consumer group had not consumed yet is gone with the old broker. So the supervisor, when it starts
a fresh broker, first marks unsent again every outbox row sent since the previous fresh broker
started (less a margin); the relays then publish them again in their original order (`seq`) and
the consumers' `processed_event` records absorb the ones they already applied.

The start of each fresh broker is recorded in a small database of its own on the same server
(`devstack`, table `broker_epoch`), with that server's clock, the clock `outbox_message.sent_at`
is written with. Nothing here runs in production: only the supervisor calls it, and only for a
broker it started itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import asyncpg

from devstack.stack import create_databases, plain_dsn

EPOCH_DATABASE = "devstack"
# Rows sent this long before the previous broker started are sent again too: a clock stepped back
# a little (NTP) cannot hide an event. It costs the republication of that minute's events.
MARGIN = timedelta(seconds=60)

_EPOCH_TABLE = """
CREATE TABLE IF NOT EXISTS broker_epoch (
    id int PRIMARY KEY CHECK (id = 1),
    started_at timestamptz NOT NULL
)
"""


async def previous_broker_start(server_url: str, epoch_database: str = EPOCH_DATABASE) -> datetime | None:
    """When the previous fresh dev broker started (None: never recorded on this server)."""
    await create_databases(server_url, [epoch_database])
    conn = await asyncpg.connect(f"{plain_dsn(server_url.rstrip('/'))}/{epoch_database}", timeout=10)
    try:
        await conn.execute(_EPOCH_TABLE)
        return await conn.fetchval("SELECT started_at FROM broker_epoch WHERE id = 1")
    finally:
        await conn.close()


async def record_broker_start(server_url: str, epoch_database: str = EPOCH_DATABASE) -> datetime:
    """Record that a fresh broker starts now (the server's clock); every event sent to it is sent later."""
    conn = await asyncpg.connect(f"{plain_dsn(server_url.rstrip('/'))}/{epoch_database}", timeout=10)
    try:
        await conn.execute(_EPOCH_TABLE)
        return await conn.fetchval(
            "INSERT INTO broker_epoch (id, started_at) VALUES (1, clock_timestamp()) "
            "ON CONFLICT (id) DO UPDATE SET started_at = EXCLUDED.started_at RETURNING started_at")
    finally:
        await conn.close()


async def mark_unsent_since(database_url: str, since: datetime | None) -> int:
    """Mark outbox rows sent at or after `since` (every sent row when None) unsent; how many."""
    conn = await asyncpg.connect(plain_dsn(database_url), timeout=10)
    try:
        if since is None:
            result = await conn.execute("UPDATE outbox_message SET sent_at = NULL WHERE sent_at IS NOT NULL")
        else:
            result = await conn.execute(
                "UPDATE outbox_message SET sent_at = NULL WHERE sent_at >= $1", since - MARGIN)
        return int(result.split()[-1])
    finally:
        await conn.close()


async def replay_for_fresh_broker(server_url: str, database_urls: Mapping[str, str],
                                  epoch_database: str = EPOCH_DATABASE) -> dict[str, int]:
    """Before the services start against a broker that holds nothing: queue again every event the
    previous broker may have lost; returns the number of events per service.

    Order matters for a crash in between: the rows are marked first and the new start recorded
    after, so a stop between the two marks the same rows (and more) again next time, never fewer.
    Rows still unsent are published anyway; rows sent before the previous broker started went to an
    older broker and were either consumed there or marked again when the previous broker started.
    """
    since = await previous_broker_start(server_url, epoch_database)
    counts = {service: await mark_unsent_since(url, since) for service, url in database_urls.items()}
    await record_broker_start(server_url, epoch_database)
    return counts
