"""Feedback service settings (env: FEEDBACK_DATABASE_URL, ...)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field

from shared.settings import ServiceSettings


class FeedbackSettings(ServiceSettings):
    service_name: str = "feedback"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("FEEDBACK_DATABASE_URL", "database_url")
    )
    follow_up_delay_business_days: int = Field(
        default=2, ge=0, le=30,
        validation_alias=AliasChoices("FOLLOW_UP_DELAY_BUSINESS_DAYS", "follow_up_delay_business_days"),
    )


@lru_cache
def get_settings() -> FeedbackSettings:
    return FeedbackSettings()
