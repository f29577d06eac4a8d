"""Quality service settings (env: QUALITY_DATABASE_URL, ...)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field

from shared.settings import ServiceSettings


class QualitySettings(ServiceSettings):
    service_name: str = "quality"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("QUALITY_DATABASE_URL", "database_url")
    )


@lru_cache
def get_settings() -> QualitySettings:
    return QualitySettings()
