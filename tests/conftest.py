"""Test fixtures: real PostgreSQL and a real Kafka-protocol broker, started once per session.

They run on their own free ports and data folders, so tests can run beside `make run`.
Set TEST_POSTGRES_URL / TEST_KAFKA_BOOTSTRAP_SERVERS to use servers that already run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.servers import Broker, PostgresServer, free_port
from devstack.stack import SERVICES
from devstack.supervisor import LocalStack


@dataclass
class Infrastructure:
    postgres_url: str
    bootstrap_servers: str
    postgres: PostgresServer | None
    broker: Broker | None


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    pg_url = os.environ.get("TEST_POSTGRES_URL")
    bootstrap = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    tmp = Path(tempfile.mkdtemp(prefix="fieldservice-test-"))
    postgres = broker = None
    try:
        if pg_url is None:
            postgres = PostgresServer(tmp / "postgres", free_port())
            postgres.start(stdout=open(tmp / "postgres.log", "wb"))  # noqa: SIM115
            pg_url = postgres.url
        if bootstrap is None:
            broker = Broker(free_port())
            broker.start(stdout=open(tmp / "broker.log", "wb"))  # noqa: SIM115
            bootstrap = broker.bootstrap
        yield Infrastructure(pg_url, bootstrap, postgres, broker)
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# How long the four services may take to answer /readyz after their start: a wait on a condition, so a
# generous bound costs nothing when they are quick; a loaded CI machine imports them slowly.
STACK_START_SECONDS = 240

FAST_GROUPS = {
    "CONSUMER_SESSION_TIMEOUT_MS": "3000",
    "CONSUMER_HEARTBEAT_INTERVAL_MS": "300",
    "CONSUMER_REBALANCE_TIMEOUT_MS": "500",
    "OUTBOX_POLL_INTERVAL_MS": "200",
    "LOG_LEVEL": "WARNING",
    # Follow-up calls are due at once, any day and hour, so the end-to-end tests can make them.
    "FOLLOW_UP_DELAY_BUSINESS_DAYS": "0",
    "CALLING_WINDOW_START": "00:00",
    "CALLING_WINDOW_END": "23:59",
    "CALLING_WEEKDAYS": "[0,1,2,3,4,5,6]",
}


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The four services as processes, with their own PostgreSQL and broker (free ports)."""
    tmp = Path(tempfile.mkdtemp(prefix="fieldservice-e2e-"))
    stack = LocalStack(
        data_dir=tmp, postgres_url=None, bootstrap_servers=None, pg_port=free_port(), broker_port=free_port(),
        service_ports={s.name: free_port() for s in SERVICES}, extra_env=FAST_GROUPS, quiet=True,
    )
    try:
        stack.start_infrastructure()
        stack.start_services(timeout=STACK_START_SECONDS)
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
