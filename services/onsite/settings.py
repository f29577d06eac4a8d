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
    evidence_dir: str = Field(default=".data/onsite-evidence",
                              description="Folder where the local evidence storage keeps uploaded files (S19)")
    evidence_max_bytes: int = Field(default=10 * 1_048_576, description="Largest evidence upload accepted, in bytes")
    evidence_content_types: list[str] = Field(
        default=["image/jpeg", "image/png", "application/pdf"],
        description="Content types accepted for evidence uploads (checked against the file's first bytes)")
    presence_check_interval_s: float = Field(
        default=600.0, description="Seconds between runs of the missing sign-out / daily-log check (S10, S20)")


@lru_cache
def get_settings() -> OnsiteSettings:
    return OnsiteSettings()
