"""End-to-end fixtures: the whole stack as real processes on free ports."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.client import StackClient
from devstack.servers import free_port
from devstack.stack import SERVICES
from devstack.supervisor import LocalStack

FAST_GROUPS = {
    "CONSUMER_SESSION_TIMEOUT_MS": "3000",
    "CONSUMER_HEARTBEAT_INTERVAL_MS": "300",
    "CONSUMER_REBALANCE_TIMEOUT_MS": "500",
    "OUTBOX_POLL_INTERVAL_MS": "200",
    "LOG_LEVEL": "WARNING",
}


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """Four services as processes against their own databases on the session's servers."""
    tmp = Path(tempfile.mkdtemp(prefix="fieldservice-e2e-"))
    stack = LocalStack(
        data_dir=tmp, postgres_url=None, bootstrap_servers=None, pg_port=free_port(), broker_port=free_port(),
        service_ports={s.name: free_port() for s in SERVICES}, extra_env=FAST_GROUPS, quiet=True,
    )
    try:
        stack.start_infrastructure()
        stack.start_services(timeout=90)
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def client(stack: LocalStack) -> Iterator[StackClient]:
    c = StackClient(stack.service_ports)
    yield c
    c.close()
