"""The access matrix, generated from each service's OpenAPI: every operation, three callers.

For every operation of every service: no token -> 401; a token whose role the operation does
not accept -> 403; a token with an accepted role -> neither 401 nor 403. Operations that are
added later are covered automatically; an operation without declared roles fails the test.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest

from shared.api.auth import Role
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET
from tests.integration.conftest import bearer, running_app

pytestmark = pytest.mark.integration

SERVICES = ("dispatch", "onsite", "quality", "feedback")
PUBLIC = {"/healthz", "/readyz", "/metrics"}
ALL_ROLES = [r.value for r in Role]


def operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = []
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                ops.append((method.upper(), path, op))
    return ops


def concrete(path: str) -> str:
    """Fill path parameters with ids that exist nowhere (authorisation comes before lookup)."""
    return re.sub(r"\{[^}]+\}", lambda _m: str(uuid.uuid4()), path)


def request_kwargs(env, method: str, path: str, role: str | None) -> dict[str, Any]:
    headers = bearer(env, role, f"matrix-{role}", unit="matrix") if role else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if method in {"POST", "PUT", "PATCH"}:
        raw = json.dumps({}).encode()
        ts = int(time.time())
        kwargs["content"] = raw
        kwargs["headers"] = {**headers, "Content-Type": "application/json",
                             TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(DEV_WEBHOOK_SECRET, ts, raw)}
    return kwargs


@pytest.fixture(scope="module")
async def apps(env):
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        clients = {}
        for service in SERVICES:
            _app, client = await stack.enter_async_context(
                running_app(env, service, relay_enabled=False, consumer_enabled=False))
            clients[service] = client
        yield clients


@pytest.mark.parametrize("service", SERVICES)
async def test_every_operation_declares_roles_and_enforces_them(env, apps, service):
    client = apps[service]
    openapi = (await client.get("/openapi.json")).json()
    ops = operations(openapi)
    assert ops, "no operations found"
    failures: list[str] = []
    checked = 0
    for method, path, op in ops:
        if path in PUBLIC:
            continue
        roles = op.get("x-required-roles")
        if op.get("x-auth") == "one-time-link":
            # The customer's survey link: the link's secret token is the credential.
            response = await client.request(method, concrete(path), **request_kwargs(env, method, path, None))
            if response.status_code not in (404, 410, 422):
                failures.append(f"{method} {path}: an unknown link gave {response.status_code}")
            checked += 1
            continue
        if not roles:
            failures.append(f"{method} {path}: declares no roles")
            continue
        url = concrete(path)
        wrong = next(r for r in ALL_ROLES if r not in roles)
        right = "admin" if "admin" in roles else roles[0]
        for caller, expect in ((None, {401}), (wrong, {403}), (right, None)):
            response = await client.request(method, url, **request_kwargs(env, method, path, caller))
            status = response.status_code
            if expect is not None and status not in expect:
                failures.append(f"{method} {path} as {caller or 'anonymous'}: {status}, expected {expect}")
            if expect is None and status in (401, 403):
                failures.append(f"{method} {path} as {caller}: {status} {response.text[:200]}")
            if status >= 400:
                assert response.headers["content-type"].startswith("application/problem+json"), (method, path)
        checked += 1
    assert not failures, "\n".join(failures)
    assert checked == len([o for o in ops if o[1] not in PUBLIC])


@pytest.mark.parametrize("service", SERVICES)
async def test_public_endpoints_need_no_token(apps, service):
    client = apps[service]
    for path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
        assert (await client.get(path)).status_code == 200, path
