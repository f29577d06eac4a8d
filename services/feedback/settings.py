"""Feedback service settings (env: FEEDBACK_DATABASE_URL, FOLLOW_UP_..., SURVEY_..., COMPLAINT_...)."""

from __future__ import annotations

from datetime import time
from functools import lru_cache

from pydantic import AliasChoices, Field

from shared.settings import ServiceSettings


def _env(name: str) -> AliasChoices:
    return AliasChoices(name.upper(), name)


DEFAULT_INFO_ROUTING = {
    "opinion": "service_department",
    "suggestion": "technology_department",
    "business_lead": "regional_centre",
}


class FeedbackSettings(ServiceSettings):
    service_name: str = "feedback"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("FEEDBACK_DATABASE_URL", "database_url")
    )
    # S34 scheduling: a rating call this many working days after completion, inside the calling window.
    follow_up_delay_business_days: int = Field(default=2, ge=0, le=30,
                                               validation_alias=_env("follow_up_delay_business_days"))
    fix_confirmation_delay_business_days: int = Field(
        default=1, ge=0, le=30, validation_alias=_env("fix_confirmation_delay_business_days"))
    calling_window_start: time = Field(default=time(9, 0), validation_alias=_env("calling_window_start"))
    calling_window_end: time = Field(default=time(18, 0), validation_alias=_env("calling_window_end"))
    calling_timezone: str = Field(default="Asia/Shanghai", validation_alias=_env("calling_timezone"))
    calling_weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4],
                                        validation_alias=_env("calling_weekdays"),
                                        description="0=Monday ... 6=Sunday")
    # Claims and retries.
    follow_up_lease_minutes: int = Field(default=15, ge=1, le=240, validation_alias=_env("follow_up_lease_minutes"))
    follow_up_max_attempts: int = Field(default=3, ge=1, le=10, validation_alias=_env("follow_up_max_attempts"))
    follow_up_retry_after_minutes: int = Field(default=240, ge=1, le=10_080,
                                               validation_alias=_env("follow_up_retry_after_minutes"))
    follow_up_give_up_after_hours: int = Field(default=48, ge=1, le=720,
                                               validation_alias=_env("follow_up_give_up_after_hours"))
    follow_up_sweep_seconds: float = Field(default=60, gt=0, validation_alias=_env("follow_up_sweep_seconds"))
    # Surveys and complaints.
    survey_questionnaire_id: str = Field(default="follow-up", validation_alias=_env("survey_questionnaire_id"))
    survey_link_ttl_hours: int = Field(default=72, ge=1, le=720, validation_alias=_env("survey_link_ttl_hours"))
    survey_link_base_url: str = Field(default="https://feedback.example/survey",
                                      validation_alias=_env("survey_link_base_url"))
    complaint_scale_threshold: int = Field(default=3, ge=1, le=5, validation_alias=_env("complaint_scale_threshold"),
                                           description="a 1-5 score below this raises a complaint")
    complaint_nps_threshold: int = Field(default=5, ge=0, le=10, validation_alias=_env("complaint_nps_threshold"),
                                         description="a 0-10 score below this raises a complaint")
    # S32: where each kind of customer information goes ('regional_centre' means the case's region).
    customer_info_routing: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_INFO_ROUTING),
                                                  validation_alias=_env("customer_info_routing"))


@lru_cache
def get_settings() -> FeedbackSettings:
    return FeedbackSettings()
