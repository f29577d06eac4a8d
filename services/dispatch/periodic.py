"""Periodic checks of the dispatch service (the clock is a parameter so tests control time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.dispatch.conditions import service as conditions
from shared.api.app import PeriodicJob, ServiceRuntime
from shared.clock import utcnow
from shared.db import transaction


def postponement_check(clock: Callable[[], datetime] = utcnow) -> PeriodicJob:
    """S2: announce postponements that came due (PostponementDue), each once."""

    async def check_due_postponements(runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessions) as session:
            await conditions.announce_due_postponements(session=session, now=clock())

    return check_due_postponements
