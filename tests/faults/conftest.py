"""Fault tests: one fault stack per module, bounded in `make test`, full size in `make chaos`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.faults.harness import FaultStack


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultStack]:
    fs = FaultStack()
    try:
        fs.start()
        yield fs
    finally:
        fs.stop()
        if not os.environ.get("KEEP_FAULT_STACK"):
            shutil.rmtree(fs.root, ignore_errors=True)
