"""Production mode refuses every development secret and default credential, each by name."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from services.dispatch.settings import DispatchSettings
from services.feedback.settings import FeedbackSettings
from services.onsite.settings import OnsiteSettings
from services.quality.settings import QualitySettings
from shared.settings import DEV_JWT_KEY, DEV_PERSONAL_DATA_KEY, DEV_WEBHOOK_SECRET, ServiceSettings

SERVICES: list[type[ServiceSettings]] = [DispatchSettings, OnsiteSettings, QualitySettings, FeedbackSettings]
GOOD_DB = "postgresql+asyncpg://svc:Zq7-long-generated-password@db.internal:5432"
IDP = {"jwt_jwks_url": "https://idp.example/.well-known/jwks.json", "jwt_algorithms": ["RS256"]}
GOOD = {"environment": "production", "postgres_url": GOOD_DB, **IDP,
        "personal_data_key": SecretStr("Vt3-pseudonym-key-from-the-vault")}


def production(cls: type[ServiceSettings], **overrides: object) -> ServiceSettings:
    values = dict(GOOD)
    if cls is DispatchSettings:
        values["crm_webhook_secrets"] = [SecretStr("k9fJ2-crm-shared-secret-from-the-vault")]
    values.update(overrides)
    return cls(**values)


@pytest.mark.parametrize("cls", SERVICES)
def test_production_starts_with_real_secrets(cls):
    assert production(cls).environment == "production"


@pytest.mark.parametrize("cls", SERVICES)
def test_production_refuses_the_development_jwt_key(cls):
    with pytest.raises(ValidationError, match="development JWT signing key"):
        production(cls, jwt_jwks_url=None, jwt_signing_key=SecretStr(DEV_JWT_KEY), jwt_algorithms=["HS256"])


@pytest.mark.parametrize("cls", SERVICES)
@pytest.mark.parametrize("url", [
    "postgresql+asyncpg://postgres@127.0.0.1:5432",                        # the default: no password
    "postgresql+asyncpg://postgres:postgres@db.internal:5432",             # the image's default
    "postgresql+asyncpg://onsite:onsite-dev-password@postgres:5432",       # compose's default
    "postgresql+asyncpg://quality:REPLACE_ME_PASSWORD@db.internal:5432",   # the k8s template's placeholder
])
def test_production_refuses_default_database_credentials(cls, url):
    with pytest.raises(ValidationError, match="database URL"):
        production(cls, postgres_url=url)


@pytest.mark.parametrize("secret", [DEV_WEBHOOK_SECRET, "change-me-current-secret", "   "])
def test_production_refuses_the_development_crm_webhook_secret(secret):
    with pytest.raises(ValidationError, match="CRM webhook secret"):
        production(DispatchSettings, crm_webhook_secrets=[SecretStr(secret)])
    # During a rotation the old secret may be a placeholder no more than the new one.
    with pytest.raises(ValidationError, match="CRM webhook secret"):
        production(DispatchSettings, crm_webhook_secrets=[SecretStr("k9fJ2-real"), SecretStr(secret)])


def test_the_dispatch_default_is_refused_in_production_and_every_finding_is_named():
    with pytest.raises(ValidationError) as refused:
        DispatchSettings(environment="production")
    text = str(refused.value)
    assert "JWT signing key" in text and "database URL" in text and "CRM webhook secret" in text


@pytest.mark.parametrize("cls", SERVICES)
def test_development_keeps_its_defaults(cls):
    assert cls(environment="development").environment == "development"


@pytest.mark.parametrize("cls", SERVICES)
def test_production_refuses_the_development_personal_data_key(cls):
    with pytest.raises(ValidationError, match="personal data key"):
        production(cls, personal_data_key=SecretStr(DEV_PERSONAL_DATA_KEY))
