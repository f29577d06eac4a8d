"""Periodic job: the consequences of S16 and S21 — overdue customer reports and refused leave not kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.onsite.site_records.service import flag_overdue_reports, flag_refused_leave
from shared.api.app import PeriodicJob, ServiceRuntime
from shared.clock import utcnow
from shared.db import transaction


def consequences_job(clock: Callable[[], datetime] = utcnow) -> PeriodicJob:
    """A `periodic` job for the service definition; `clock` is injectable so tests control time."""

    async def flag_overdue_reports_and_refused_leave(runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessions) as session:
            now = clock()
            await flag_overdue_reports(session=session, now=now)
            await flag_refused_leave(session=session, now=now)

    return flag_overdue_reports_and_refused_leave
