"""Dispatch service settings (env: DISPATCH_DATABASE_URL, CRM_WEBHOOK_SECRETS, ...)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr

from shared.settings import DEV_WEBHOOK_SECRET, ServiceSettings, is_development_secret


class DispatchSettings(ServiceSettings):
    service_name: str = "dispatch"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DISPATCH_DATABASE_URL", "database_url")
    )
    crm_webhook_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(DEV_WEBHOOK_SECRET)],
        description="Current secret first; a second one is accepted during rotation",
    )
    postponement_check_seconds: float = Field(default=300, gt=0, description="S2: how often due postponements "
                                              "are looked for")
    suggestion_time_limit_seconds: float = Field(default=5, gt=0, le=120,
                                                 description="CP-SAT time limit of a suggested assignment")

    def development_secrets(self) -> list[str]:
        found = super().development_secrets()
        if any(is_development_secret(secret.get_secret_value()) for secret in self.crm_webhook_secrets):
            found.append("the development or a placeholder CRM webhook secret: set CRM_WEBHOOK_SECRETS")
        return found


@lru_cache
def get_settings() -> DispatchSettings:
    return DispatchSettings()
