"""End-to-end fixtures (the `stack` itself is in tests/conftest.py, shared with the fuzz tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.client import StackClient
from devstack.supervisor import LocalStack


@pytest.fixture
def client(stack: LocalStack) -> Iterator[StackClient]:
    c = StackClient(stack.service_ports)
    yield c
    c.close()
