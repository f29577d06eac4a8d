"""Periodic job: purge expired resumable evidence uploads with their stored chunks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.onsite.evidence.uploads.service import purge_expired
from services.onsite.settings import OnsiteSettings
from shared.api.app import PeriodicJob, ServiceRuntime
from shared.clock import utcnow
from shared.db import transaction
from shared.storage import LocalFolderStorage


def purge_expired_uploads_job(clock: Callable[[], datetime] = utcnow) -> PeriodicJob:
    """A `periodic` job for the service definition; `clock` is injectable so tests control time."""

    async def purge_expired_evidence_uploads(runtime: ServiceRuntime) -> None:
        settings = runtime.settings
        assert isinstance(settings, OnsiteSettings)  # the job of the onsite service
        storage = LocalFolderStorage(settings.evidence_dir)  # where the evidence router stores chunks
        async with transaction(runtime.sessions) as session:
            await purge_expired(session=session, storage=storage, now=clock())

    return purge_expired_evidence_uploads
