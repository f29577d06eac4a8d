"""The leasing worker: bounded rounds, one task per leased row, and a stop that drains."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from shared.api.leasing import LeasingWorker


class _Session:
    @asynccontextmanager
    async def begin(self) -> Any:
        yield self

    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Worker(LeasingWorker[int]):
    job_name = "work_off_numbers"

    def __init__(self, due: list[int], *, max_concurrency: int = 2) -> None:
        super().__init__(max_concurrency=max_concurrency, poll_seconds=0.01)
        self.due = due
        self.limits: list[int] = []
        self.done: list[int] = []
        self.release = asyncio.Event()
        self.all_done = asyncio.Event()
        self.expected = len(due)
        self.stopped_called = False

    async def claim(self, session: Any, limit: int) -> Sequence[int]:
        self.limits.append(limit)
        leased, self.due = self.due[:limit], self.due[limit:]
        return leased

    def task_name(self, row: int) -> str:
        return f"number-{row}"

    async def handle(self, runtime: Any, row: int) -> None:
        await self.release.wait()
        self.done.append(row)
        if len(self.done) == self.expected:
            self.all_done.set()

    async def stopped(self) -> None:
        self.stopped_called = True


def _runtime() -> SimpleNamespace:
    return SimpleNamespace(sessions=_Session, stop=asyncio.Event())


async def test_a_round_leases_only_as_many_as_there_are_free_slots():
    worker, runtime = _Worker([1, 2, 3]), _runtime()
    assert await worker.pump(runtime) == 2 and worker.limits == [2]
    assert await worker.pump(runtime) == 0 and worker.limits == [2]  # both slots busy: no lease asked
    worker.release.set()
    await worker.drain(timeout=1)
    assert sorted(worker.done) == [1, 2]
    assert await worker.pump(runtime) == 1 and worker.limits == [2, 2]
    await worker.drain(timeout=1)
    assert sorted(worker.done) == [1, 2, 3]


async def test_run_works_everything_off_and_stops_cleanly():
    worker, runtime = _Worker([1, 2, 3, 4, 5]), _runtime()
    worker.release.set()
    job = worker.job()
    assert job.__name__ == "work_off_numbers"
    running = asyncio.create_task(job(runtime))
    await asyncio.wait_for(worker.all_done.wait(), 5)
    runtime.stop.set()
    worker.wake()
    await asyncio.wait_for(running, 5)
    assert sorted(worker.done) == [1, 2, 3, 4, 5] and worker.stopped_called


async def test_drain_cancels_what_does_not_finish_in_time():
    worker, runtime = _Worker([7]), _runtime()
    await worker.pump(runtime)
    await worker.drain(timeout=0.01)  # never released: cancelled
    assert worker.done == [] and not worker._tasks
