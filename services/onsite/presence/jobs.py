"""Periodic job: flag yesterday's missing sign-outs (S10) and daily logs (S20) in the morning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.onsite.presence.service import flag_missing
from shared.api.app import PeriodicJob, ServiceRuntime
from shared.clock import utcnow
from shared.db import transaction


def missing_presence_job(clock: Callable[[], datetime] = utcnow) -> PeriodicJob:
    """A `periodic` job for the service definition; `clock` is injectable so tests control time."""

    async def flag_missing_sign_outs_and_logs(runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessions) as session:
            await flag_missing(session=session, now=clock())

    return flag_missing_sign_outs_and_logs
