"""Decision 0088: which outbox rows a fresh dev broker gets again (devstack.restart), on real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from devstack.restart import MARGIN, replay_for_fresh_broker
from devstack.stack import create_databases, plain_dsn

pytestmark = pytest.mark.integration


@pytest.fixture
async def scratch(infra) -> AsyncIterator[tuple[str, str, asyncpg.Connection]]:
    """A database with a bare outbox (only what the replay reads) and an epoch database of its own, so a
    test server shared with `make run` keeps the dev stack's record."""
    name = f"restart_{uuid.uuid4().hex[:8]}"
    await create_databases(infra.postgres_url, [name])
    url = f"{infra.postgres_url.rstrip('/')}/{name}"
    conn = await asyncpg.connect(plain_dsn(url), timeout=10)
    await conn.execute("CREATE TABLE outbox_message (seq bigserial PRIMARY KEY, sent_at timestamptz)")
    try:
        yield url, f"{name}_epoch", conn
    finally:
        await conn.close()


async def _unsent(conn: asyncpg.Connection) -> list[int]:
    return [r["seq"] for r in await conn.fetch("SELECT seq FROM outbox_message WHERE sent_at IS NULL ORDER BY seq")]


async def test_first_start_sends_everything_again_then_only_what_the_last_broker_got(infra, scratch):
    url, epoch_db, conn = scratch
    # before any recorded start: one row sent long ago, one never sent
    await conn.execute("INSERT INTO outbox_message (sent_at) VALUES (now() - interval '2 days'), (NULL)")
    assert await replay_for_fresh_broker(infra.postgres_url, {"x": url}, epoch_db) == {"x": 1}
    assert await _unsent(conn) == [1, 2], "no start recorded: the history is unknown, so all of it"

    # the relay publishes both to broker 1 (sent after it started); a row sent to an older broker
    # (before broker 1 started, beyond the margin) was consumed there or already sent again
    await conn.execute("UPDATE outbox_message SET sent_at = clock_timestamp()")
    await conn.execute("INSERT INTO outbox_message (sent_at) VALUES (now() - $1::interval - interval '1 hour')",
                       MARGIN)
    assert await replay_for_fresh_broker(infra.postgres_url, {"x": url}, epoch_db) == {"x": 2}
    assert await _unsent(conn) == [1, 2]

    # restarted again before the relay published them: still unsent, published by the next relay anyway
    assert await replay_for_fresh_broker(infra.postgres_url, {"x": url}, epoch_db) == {"x": 0}
    assert await _unsent(conn) == [1, 2]
