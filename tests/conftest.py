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
