"""Authentication (OAuth2 bearer JWTs) and role-based authorisation for every service.

Production verifies the identity provider's tokens through its JWKS (RS256/ES256 only);
development and tests sign with a local HS256 key (refused in production by the settings).
Every operation declares the roles it accepts with `Requires(...)`; `annotate_openapi`
copies them into the OpenAPI document (`x-required-roles`), which the security tests read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.api.problems import Forbidden, Unauthorized
from shared.api.routes import api_routes
from shared.clock import timestamp, utcnow
from shared.messages import msg
from shared.settings import ServiceSettings


class Role(StrEnum):
    DISPATCHER = "dispatcher"
    ENGINEER = "engineer"
    QUALITY_ENGINEER = "quality_engineer"
    CALL_CENTRE_AGENT = "call_centre_agent"
    REGIONAL_CENTRE = "regional_centre"
    DEPARTMENT_HEAD = "department_head"
    ADMIN = "admin"
    INTEGRATION_ADMIN = "integration_admin"  # registers outbound webhook subscriptions (decision 0083)
    PRIVACY_OFFICER = "privacy_officer"  # exports and erases personal data, reads its access log (decision 0093)
    # Machine clients.
    CRM = "crm"
    CALL_CENTRE_TOOL = "call_centre_tool"


MACHINE_ROLES = frozenset({Role.CRM, Role.CALL_CENTRE_TOOL})

# Who is who: the roles that operations admit together, named once.
SUPERVISORS = (Role.DISPATCHER, Role.DEPARTMENT_HEAD, Role.REGIONAL_CENTRE)
"""The office overseeing the field work: dispatchers, department heads and the regional centres."""
CALL_CENTRE = (Role.CALL_CENTRE_AGENT, Role.CALL_CENTRE_TOOL)
"""The call centre: its agents, and its tool acting for them."""
CASE_WORKERS = (*SUPERVISORS, Role.QUALITY_ENGINEER, Role.ENGINEER)
"""Everyone who works on service cases: the supervisors, quality engineers and the engineers on site."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, roles, and the unit / region they belong to."""

    subject: str
    roles: frozenset[str]
    scopes: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None
    unit: str | None = None
    region: str | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def actor(self) -> str:
        """How this principal is named in events and audit columns."""
        return self.subject


class TokenVerifier:
    """Checks signature, algorithm allow-list, expiry (with leeway), issuer and audience."""

    CACHE_SIZE = 4096

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._jwks = (
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, timeout=5) if settings.jwt_jwks_url else None
        )
        # token -> (remembered until, principal): clients send the same token many times, and the
        # signature check (a thread hop for the JWKS lookup in production) is the costly part
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        """The token's principal; a token verified in the last `jwt_cache_seconds` is not checked again."""
        now = timestamp()
        hit = self._verified.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        principal, expires = await self._verify(token)
        if self.settings.jwt_cache_seconds > 0:
            self._verified[token] = (min(expires + self.settings.jwt_leeway_seconds,
                                         now + self.settings.jwt_cache_seconds), principal)
            self._verified.move_to_end(token)
            while len(self._verified) > self.CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in s.jwt_algorithms:
                raise Unauthorized(msg("token algorithm {header!r} is not accepted", header=header.get('alg')))
            if self._jwks is not None:
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                key: Any = signing_key.key
            else:
                key = s.jwt_signing_key.get_secret_value()
            claims = jwt.decode(
                token, key, algorithms=s.jwt_algorithms, audience=s.jwt_audience, issuer=s.jwt_issuer,
                leeway=s.jwt_leeway_seconds, options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except Unauthorized:
            raise
        except jwt.PyJWTError as exc:
            raise Unauthorized(msg("invalid token: {exc}", exc=exc)) from None
        roles = claims.get("roles", [])
        if isinstance(roles, str):
            roles = roles.split()
        principal = Principal(
            subject=str(claims["sub"]),
            roles=frozenset(roles),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            name=claims.get("name"),
            unit=claims.get("unit"),
            region=claims.get("region"),
        )
        return principal, float(claims["exp"])


def issue_dev_token(
    settings: ServiceSettings,
    *,
    subject: str,
    roles: list[str],
    ttl: timedelta = timedelta(hours=12),
    **claims: Any,
) -> str:
    """Sign a token with the local development key (never valid in production)."""
    now = utcnow()
    body = {
        "sub": subject, "roles": roles, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
        "iat": now, "nbf": now, "exp": now + ttl, **claims,
    }
    return jwt.encode(body, settings.jwt_signing_key.get_secret_value(), algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="OAuth2 bearer JWT")


class Requires:
    """Dependency: the caller must hold one of `roles` (admin is accepted for human operations)."""

    def __init__(self, *roles: Role, admin: bool = True) -> None:
        accepted = set(roles)
        if admin and not accepted <= MACHINE_ROLES:
            accepted.add(Role.ADMIN)
        self.roles = frozenset(accepted)

    async def __call__(
        self, request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized(msg("a bearer token is required"))
        principal = await request.app.state.token_verifier.verify(credentials.credentials)
        if not principal.has(*self.roles):
            raise Forbidden(msg("this operation requires one of the roles: {roles}",
                roles=', '.join(sorted(self.roles))))
        request.state.principal = principal
        return principal


def role_requirements(route: APIRoute) -> list[Requires]:
    """The role requirements anywhere in a route's dependencies (none: a public operation)."""
    found: list[Requires] = []
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Requires):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def annotate_openapi(router: APIRouter) -> None:
    """Write each operation's accepted roles into OpenAPI (`x-required-roles` and the text).

    Call it on a router before it is included in the app.
    """
    for route in api_routes(router.routes):
        if "x-required-roles" in (route.openapi_extra or {}):
            continue  # a router included in several apps (tests) is annotated once
        reqs = role_requirements(route)
        if not reqs:
            continue
        roles = sorted(set.intersection(*(set(r.roles) for r in reqs)))
        route.openapi_extra = {**(route.openapi_extra or {}), "x-required-roles": roles}
        note = f"\n\n**Requires role:** {', '.join(roles)}"
        route.description = (route.description or "") + note


# The callers most operations name; a router declares its own `Requires` for any other set.
Dispatcher = Annotated[Principal, Depends(Requires(Role.DISPATCHER))]
Supervisor = Annotated[Principal, Depends(Requires(*SUPERVISORS))]
# engineers among them see only the cases whose team lists them (checked in the service layer)
CaseWorker = Annotated[Principal, Depends(Requires(*CASE_WORKERS))]
