"""Quality service settings (env: QUALITY_DATABASE_URL, QUALITY_EVIDENCE_DIR, ...)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field

from shared.settings import MAX_UPLOAD_BYTES, ServiceSettings

DEFAULT_EVIDENCE_TYPES = ["image/jpeg", "image/png", "image/webp", "application/pdf", "video/mp4", "text/plain"]


class QualitySettings(ServiceSettings):
    service_name: str = "quality"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("QUALITY_DATABASE_URL", "database_url")
    )
    evidence_dir: str = Field(
        default=".data/quality-evidence", validation_alias=AliasChoices("QUALITY_EVIDENCE_DIR", "evidence_dir"),
        description="Local folder where evidence files of quality issues are stored",
    )
    evidence_max_bytes: int = Field(
        default=MAX_UPLOAD_BYTES, ge=1,
        validation_alias=AliasChoices("QUALITY_EVIDENCE_MAX_BYTES", "evidence_max_bytes"),
        description="Largest evidence file accepted for a quality issue, in bytes",
    )
    evidence_content_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EVIDENCE_TYPES),
        validation_alias=AliasChoices("QUALITY_EVIDENCE_CONTENT_TYPES", "evidence_content_types"),
        description="Content types accepted for evidence files (JSON list)",
    )
    sla_check_interval_seconds: float = Field(
        default=60.0, gt=0,
        validation_alias=AliasChoices("QUALITY_SLA_CHECK_INTERVAL_SECONDS", "sla_check_interval_seconds"),
        description="How often the SLA clocks are checked for warnings and breaches, in seconds",
    )


@lru_cache
def get_settings() -> QualitySettings:
    return QualitySettings()
