"""Settings common to every service (pydantic-settings, read from the environment).

Each service subclasses `ServiceSettings` with its own `env_prefix` (e.g. `DISPATCH_`), so every
service reads its own database URL while sharing the broker and security settings.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_KEY = "dev-only-signing-key-change-me-0123456789abcdef"
DEV_WEBHOOK_SECRET = "dev-only-crm-webhook-secret"
DEV_PERSONAL_DATA_KEY = "dev-only-personal-data-pseudonym-key"
# Passwords and secrets that ship with the project (compose defaults, templates): never in production.
DEV_PASSWORDS = frozenset({"postgres", "postgres-dev-password", "dispatch-dev-password", "onsite-dev-password",
                           "quality-dev-password", "feedback-dev-password", "admin", "password"})
PLACEHOLDER_MARKS = ("change-me", "change_me", "changeme", "replace_me", "replace-me", "dev-only")


def is_development_secret(value: str) -> bool:
    """A secret the project ships (a default, a template placeholder) or none at all."""
    lowered = value.strip().lower()
    return not lowered or lowered in DEV_PASSWORDS or any(mark in lowered for mark in PLACEHOLDER_MARKS)


MAX_UPLOAD_BYTES = 20 * 1_048_576


def _retention(days: int, kept: str, then: str) -> Any:
    """A retention setting of one kind of personal data: days kept, then what happens; 0 keeps it."""
    return Field(default=days, ge=0, description=f"Days {kept}, then {then}; 0 keeps them")


class SiteCalendarSettings(BaseSettings):
    """The sites' time zones, for the services that count a site's days (onsite, dispatch)."""

    site_timezone: ZoneInfo = Field(
        default=ZoneInfo("Asia/Shanghai"),
        description="Time zone (IANA name) whose calendar days are a site's days (S10 sign-in, S14 checklist, "
                    "S20 log) in regions without an entry in `SITE_TIMEZONES`")
    site_timezones: dict[str, ZoneInfo] = Field(
        default_factory=dict,
        description="Time zone of the sites of each region (JSON object, region -> IANA name), e.g. "
                    "`{\"west\": \"Asia/Urumqi\"}`; other regions use `SITE_TIMEZONE`")


class ServiceSettings(BaseSettings):
    """Base settings; a service's own prefix applies to every field (DISPATCH_DATABASE_URL, ...)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = "development"
    log_json: bool = True
    log_level: str = "INFO"

    # Database: one database per service. POSTGRES_URL names the server; a service's own
    # <SERVICE>_DATABASE_URL (declared by the subclass) overrides the whole URL.
    postgres_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432"
    database_url: str | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_statement_timeout_ms: int = 15_000
    db_pool_pre_ping: bool = False
    gc_gen0_threshold: int = 20_000

    # Broker.
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_enable_idempotence: bool = False
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    consumer_max_attempts: int = 3
    consumer_session_timeout_ms: int = 10_000
    consumer_heartbeat_interval_ms: int = 3_000
    consumer_rebalance_timeout_ms: int = 5_000
    consumer_retry_backoff_ms: int = 200
    consumer_batch_size: int = Field(default=200, ge=1, le=5000,
                                     description="messages fetched and applied in one transaction, at most")
    consumer_fetch_max_wait_ms: int = Field(default=20, ge=1, le=500,
                                            description="longest wait of a fetch for new messages")

    # Outbox relay.
    outbox_batch_size: int = 500
    outbox_poll_interval_ms: int = 500
    relay_enabled: bool = True
    consumer_enabled: bool = True

    # Authentication: a local HS256 key in development, a JWKS URL (RS256/ES256) in production.
    jwt_signing_key: SecretStr = SecretStr(DEV_JWT_KEY)
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "fieldservice-dev"
    jwt_audience: str = "fieldservice"
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_leeway_seconds: int = 30
    jwt_cache_seconds: int = 30

    # Language of problem details when a request's Accept-Language names neither zh nor en (decision 0094).
    default_language: Literal["zh", "en"] = Field(
        default="en", description="Language of problem details (title, detail, missing conditions) when the "
                                  "request's `Accept-Language` names neither `zh` nor `en`")

    # Limits.
    max_page_size: int = 200
    max_request_body_bytes: int = 1_048_576
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    http_client_timeout_s: float = 5.0
    idempotency_key_ttl_hours: int = Field(
        default=168, ge=1, le=24 * 90,
        description="Hours an `Idempotency-Key` and its stored response are kept after first use (a week: a field "
                    "app's offline queue may wait days for signal); a key older than this is used afresh")
    # Personal data (decision 0093): the pseudonym key (the same in all four services, so one erased person has
    # one pseudonym everywhere), retention per kind, and how often the purge runs.
    personal_data_key: SecretStr = Field(
        default=SecretStr(DEV_PERSONAL_DATA_KEY),
        description="HMAC key of the pseudonyms of erased persons; the same value in every service (a secret)")
    contact_retention_days: int = _retention(
        1095, "customer contacts (names, phones, e-mails) are kept after their record's time", "pseudonymised")
    identity_retention_days: int = _retention(
        3650, "names identifying people on the standard's records are kept", "pseudonymised")
    signature_retention_days: int = _retention(
        3650, "signatures (witnesses, receipts, hand-overs) are kept", "pseudonymised")
    free_text_retention_days: int = _retention(
        1095, "free texts that may name people (complaints, opinions) are kept", "replaced by a pseudonym")
    location_trace_retention_days: int = _retention(
        90, "engineers' location traces (sign-in/out coordinates) are kept", "cleared")
    personal_data_purge_interval_s: float = Field(
        default=3600.0, gt=0, description="Seconds between runs of the purge of personal data past retention")

    @model_validator(mode="after")
    def _default_database_url(self) -> ServiceSettings:
        if self.database_url is None:
            base = self.postgres_url.rstrip("/").replace("postgresql://", "postgresql+asyncpg://", 1)
            self.database_url = f"{base}/{self.service_name}"
        return self

    def development_secrets(self) -> list[str]:
        """The development secrets and default credentials in use (each named); services add their own."""
        found = []
        if self.jwt_jwks_url is None and self.jwt_signing_key.get_secret_value() == DEV_JWT_KEY:
            found.append("the development JWT signing key: set JWT_JWKS_URL")
        if is_development_secret(self.personal_data_key.get_secret_value()):
            found.append("the development personal data key: set PERSONAL_DATA_KEY")
        assert self.database_url is not None
        password = urlsplit(self.database_url).password
        if password is None or is_development_secret(unquote(password)):
            found.append("a database URL without a password or with a development password: set POSTGRES_URL "
                         f"or {self.service_name.upper()}_DATABASE_URL")
        return found

    @model_validator(mode="after")
    def _file_limits_within_the_upload_limit(self) -> ServiceSettings:
        """A per-file limit above the request limit would promise what the server refuses earlier."""
        for name in type(self).model_fields:
            if name.endswith("_max_bytes") and getattr(self, name) > self.max_upload_bytes:
                raise ValueError(f"{name} ({getattr(self, name)}) exceeds max_upload_bytes ({self.max_upload_bytes})")
        return self

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> ServiceSettings:
        if self.environment == "production":
            found = self.development_secrets()
            if found:
                raise ValueError("production mode refuses " + "; ".join(found))
            if any(a.startswith("HS") for a in self.jwt_algorithms) and self.jwt_jwks_url:
                raise ValueError("JWKS verification allows asymmetric algorithms only (RS256/ES256)")
        return self

    def topic(self, service: str) -> str:
        """The events topic of a producing service (`<service>.events`)."""
        return f"{service}.events"

    @property
    def own_topic(self) -> str:
        return self.topic(self.service_name)

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.service_name}.dlq"

    @property
    def asyncpg_dsn(self) -> str:
        """The database URL as asyncpg wants it (no SQLAlchemy driver suffix)."""
        assert self.database_url is not None
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


ALL_SERVICES = ("dispatch", "onsite", "quality", "feedback")
