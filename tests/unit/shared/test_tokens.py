"""Bearer token verification: signature, algorithm allow-list, expiry, issuer, audience."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr, ValidationError

from shared.api.auth import TokenVerifier, issue_dev_token
from shared.api.problems import Unauthorized
from shared.settings import ServiceSettings

SETTINGS = ServiceSettings(environment="test")
PRODUCTION_DB = "postgresql+asyncpg://svc:a-real-password-7f3c@db.internal:5432"


def claims(**over):
    now = datetime.now(UTC)
    return {"sub": "u1", "roles": ["dispatcher"], "iss": SETTINGS.jwt_issuer, "aud": SETTINGS.jwt_audience,
            "iat": now, "exp": now + timedelta(minutes=5), **over}


def hs(body, key=SETTINGS.jwt_signing_key.get_secret_value()):
    return jwt.encode(body, key, algorithm="HS256")


async def verify(token: str):
    return await TokenVerifier(SETTINGS).verify(token)


async def test_a_development_token_verifies():
    principal = await verify(issue_dev_token(SETTINGS, subject="u9", roles=["engineer"], unit="east"))
    assert principal.subject == "u9" and principal.roles == {"engineer"} and principal.unit == "east"


@pytest.mark.parametrize("token_factory", [
    lambda: hs(claims(exp=datetime.now(UTC) - timedelta(minutes=5))),
    lambda: hs(claims(iss="someone-else")),
    lambda: hs(claims(aud="another-api")),
    lambda: hs(claims(), key="a-different-key-of-sufficient-length-1234"),
    lambda: hs({k: v for k, v in claims().items() if k != "sub"}),
    lambda: "not.a.token",
], ids=["expired", "wrong-issuer", "wrong-audience", "wrong-key", "no-subject", "garbage"])
async def test_bad_tokens_are_refused(token_factory):
    with pytest.raises(Unauthorized):
        await verify(token_factory())


async def test_alg_none_is_refused():
    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, default=str).encode()).decode().rstrip("=")

    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims().items()}
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(body)}."
    with pytest.raises(Unauthorized, match="not accepted"):
        await verify(token)


async def test_an_asymmetric_token_is_refused_when_not_allowed():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized, match="not accepted"):
        await verify(jwt.encode(claims(), key, algorithm="RS256"))


async def test_a_small_clock_skew_is_tolerated():
    token = hs(claims(exp=datetime.now(UTC) - timedelta(seconds=5)))
    assert (await verify(token)).subject == "u1"


def test_production_refuses_the_development_key():
    with pytest.raises(ValidationError, match="development JWT signing key"):
        ServiceSettings(environment="production", postgres_url=PRODUCTION_DB)
    key = SecretStr("Vt3-pseudonym-key-from-the-vault")  # the personal data key is refused too (decision 0093)
    ok = ServiceSettings(environment="production", jwt_jwks_url="https://idp.example/jwks",
                         jwt_algorithms=["RS256", "ES256"], postgres_url=PRODUCTION_DB, personal_data_key=key)
    assert ok.jwt_jwks_url
    with pytest.raises(ValidationError, match="asymmetric"):
        ServiceSettings(environment="production", jwt_jwks_url="https://idp.example/jwks", jwt_algorithms=["HS256"],
                        postgres_url=PRODUCTION_DB, personal_data_key=key)


async def test_a_verified_token_is_remembered_but_never_past_its_expiry(monkeypatch):
    verifier = TokenVerifier(SETTINGS)
    token = hs(claims(exp=datetime.now(UTC) + timedelta(seconds=5)))
    first = await verifier.verify(token)
    real_decode = jwt.decode
    checks: list[str] = []

    def counting_decode(*args, **kwargs):
        checks.append("decode")
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    assert await verifier.verify(token) is first and checks == []  # served from the cache
    # past exp + leeway the cache has forgotten it: the token is checked again, and refused
    later = datetime.now(UTC).timestamp() + 5 + SETTINGS.jwt_leeway_seconds + 1
    monkeypatch.setattr("shared.api.auth.timestamp", lambda: later)

    def decode_later(*args, **kwargs):  # what PyJWT says of this token at that time
        checks.append("decode")
        raise jwt.ExpiredSignatureError("Signature has expired")

    monkeypatch.setattr(jwt, "decode", decode_later)
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(token)
    assert checks == ["decode"]


async def test_the_token_cache_can_be_turned_off():
    verifier = TokenVerifier(ServiceSettings(environment="test", jwt_cache_seconds=0))
    await verifier.verify(issue_dev_token(SETTINGS, subject="u1", roles=["engineer"]))
    assert not verifier._verified
