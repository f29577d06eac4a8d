"""Fault tests: one fault stack per module, bounded in `make test`, full size in `make chaos`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import FaultStack
from tests.faults.report import REPORT


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, pytest.Function) and item.module is not None and item.module.__name__.startswith(
                "tests.faults"):
            REPORT.describe(item.originalname, item.function.__doc__)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        REPORT.finished(report.nodeid, report.outcome, report.duration)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With FAULT_REPORT set (`make chaos`), write every scenario's reconciliation there."""
    target = os.environ.get("FAULT_REPORT")
    if target and REPORT.scenarios:
        from tests.faults.test_faults import BROKER_PAUSE, CASES, CONCURRENCY

        REPORT.write(Path(target), cases=CASES, concurrency=CONCURRENCY, broker_pause=BROKER_PAUSE)
