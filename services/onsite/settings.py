"""Onsite service settings (env: ONSITE_DATABASE_URL, ...)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import AliasChoices, Field, field_validator

from shared.settings import MAX_UPLOAD_BYTES, ServiceSettings, SiteCalendarSettings


class OnsiteSettings(ServiceSettings, SiteCalendarSettings):
    service_name: str = "onsite"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ONSITE_DATABASE_URL", "database_url")
    )
    evidence_dir: str = Field(default=".data/onsite-evidence",
                              description="Folder where the local evidence storage keeps uploaded files (S19)")
    evidence_max_bytes: int = Field(default=MAX_UPLOAD_BYTES, description="Largest evidence upload accepted, in bytes")
    evidence_content_types: list[str] = Field(
        default=["image/jpeg", "image/png", "application/pdf"],
        description="Content types accepted for evidence uploads (checked against the file's first bytes)")
    evidence_upload_max_size: int = Field(
        default=200 * 1_048_576, gt=0,
        description="Largest resumable evidence upload (tus `Tus-Max-Size`, `/visits/{id}/evidence-uploads`), in "
                    "bytes: the whole file, sent in chunks of at most `EVIDENCE_UPLOAD_CHUNK_MAX_BYTES`")
    evidence_upload_chunk_max_bytes: int = Field(
        default=MAX_UPLOAD_BYTES, gt=0,
        description="Largest chunk (one PATCH body) of a resumable evidence upload, in bytes; also capped by "
                    "`MAX_UPLOAD_BYTES`")
    evidence_upload_expiry_s: float = Field(
        default=86_400.0, gt=0,
        description="Seconds a resumable evidence upload stays open after its creation or last chunk; then it "
                    "answers 410 and is purged with its chunks")
    evidence_upload_purge_interval_s: float = Field(
        default=3_600.0, gt=0, description="Seconds between runs of the purge of expired resumable uploads")
    presence_check_interval_s: float = Field(
        default=600.0, description="Seconds between runs of the missing sign-out / daily-log check (S10, S20)")
    reported_time_skew_s: float = Field(
        default=300.0, ge=0,
        description="Clock skew allowed for times people report on site (arrival, sign-in/out, witnesses, receipt, "
                    "departure): up to this many seconds in the future or before the dispatch")
    site_working_weekdays: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5, 6],
        description="Days on which an engineer on site must sign in (S10), judged on the site's calendar "
                    "(JSON list, 0=Monday ... 6=Sunday)")

    @field_validator("site_working_weekdays")
    @classmethod
    def _check_weekdays(cls, value: list[int]) -> list[int]:
        if any(d not in range(7) for d in value):
            raise ValueError("weekdays are 0 (Monday) ... 6 (Sunday)")
        return sorted(set(value))


@lru_cache
def get_settings() -> OnsiteSettings:
    return OnsiteSettings()


def reported_time_skew() -> timedelta:
    """The clock skew allowed for reported times (`REPORTED_TIME_SKEW_S`)."""
    return timedelta(seconds=get_settings().reported_time_skew_s)
