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


@lru_cache
def get_settings() -> OnsiteSettings:
    return OnsiteSettings()
