"""A background worker that leases due rows and works each off outside any transaction, a bounded
number at once: the loop of dispatch's webhook and notification senders.

Each round leases as many rows as there are free slots (the subclass's `claim`, SKIP LOCKED: never two
replicas on one row) and starts a task per row (`handle`). It wakes when a task ends, when `wake()` is
called, or every poll interval. On stop it waits a moment for the tasks in flight and cancels the rest:
their leases end and the rows are worked off again (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.api.app import PeriodicJob, ServiceRuntime
from shared.db import transaction

log = logging.getLogger(__name__)

T = TypeVar("T")


class LeasingWorker(ABC, Generic[T]):
    """Works off leased rows of type `T`; `job()` is registered as a periodic job that runs until stop."""

    #: the periodic job's name (the task's and the logs')
    job_name = "work_off_leases"
    #: what the log says when a round fails to lease (e.g. "webhook worker: claiming deliveries failed")
    claim_failure = "worker: claiming failed"

    def __init__(self, *, max_concurrency: int, poll_seconds: float) -> None:
        self.max_concurrency = max_concurrency
        self.poll_seconds = poll_seconds
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    @abstractmethod
    async def claim(self, session: AsyncSession, limit: int) -> Sequence[T]:
        """Lease at most `limit` due rows (in the round's transaction)."""

    @abstractmethod
    async def handle(self, runtime: ServiceRuntime, row: T) -> None:
        """Work off one leased row (its own task, outside the round's transaction)."""

    @abstractmethod
    def task_name(self, row: T) -> str:
        """The name of the row's task (seen in task dumps and logs)."""

    async def stopped(self) -> None:
        """Release what the worker holds once it has stopped (nothing by default)."""

    def job(self) -> PeriodicJob:
        """The periodic job of the service definition (`job_name`): it runs (`run`) until the service stops."""
        worker = self

        async def job(runtime: ServiceRuntime) -> None:
            await worker.run(runtime)

        job.__name__ = job.__qualname__ = self.job_name
        return job

    def wake(self) -> None:
        """Lease again now (something became due) instead of at the next poll."""
        self._wake.set()

    async def run(self, runtime: ServiceRuntime) -> None:
        """Lease while there are free slots; wake on a finished task, `wake()` or every poll interval."""
        try:
            while not runtime.stop.is_set():
                try:
                    await self.pump(runtime)
                except Exception:
                    log.exception(self.claim_failure)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                self._wake.clear()
        finally:
            await self.drain(timeout=5)  # what is cut off is worked off again when its lease ends
            await self.stopped()

    async def pump(self, runtime: ServiceRuntime) -> int:
        """One round: lease as many due rows as there are free slots and start working them off."""
        free = self.max_concurrency - len(self._tasks)
        if free <= 0:
            return 0
        async with transaction(runtime.sessions) as session:
            claimed = await self.claim(session, free)
        for row in claimed:
            self.start(runtime, row)
        return len(claimed)

    def start(self, runtime: ServiceRuntime, row: T) -> None:
        task = asyncio.create_task(self.handle(runtime, row), name=self.task_name(row))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()  # a slot is free

    async def drain(self, timeout: float) -> None:
        """Wait for the tasks in flight (tests, shutdown); cancel what is left after `timeout`."""
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
