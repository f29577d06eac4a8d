"""Onsite service settings (env: ONSITE_DATABASE_URL, ...)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field

from shared.settings import ServiceSettings


class OnsiteSettings(ServiceSettings):
    service_name: str = "onsite"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ONSITE_DATABASE_URL", "database_url")
    )
    # S19 evidence: where the local-folder storage keeps files, and what it accepts.
    evidence_dir: str = ".data/onsite-evidence"
    evidence_max_bytes: int = 10 * 1_048_576
    evidence_content_types: list[str] = ["image/jpeg", "image/png", "application/pdf"]
    # S10/S20: how often the missing sign-out / missing daily-log check runs (seconds).
    presence_check_interval_s: float = 600.0


@lru_cache
def get_settings() -> OnsiteSettings:
    return OnsiteSettings()
