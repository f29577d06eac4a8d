"""Schemathesis against every service's OpenAPI, on the running stack, with valid tokens.

All default checks: no server error, responses match their schema, invalid data is rejected,
missing authentication is refused. Each operation alone, then stateful: sequences of calls
following the OpenAPI links (a case the CRM created, then read, acknowledged, planned...; a
visit listed, then worked on). A bounded run in `make test` (FUZZ_EXAMPLES per operation,
FUZZ_SEQUENCES sequences per service); `make fuzz` runs long.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import stateful as stateful_module

from devstack.client import StackClient
from devstack.demo import run_slice
from shared.api.auth import issue_dev_token
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET, ServiceSettings

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# stateful: sequences of calls that follow the OpenAPI links (create, then use what was created)
SEQUENCES = int(os.environ.get("FUZZ_SEQUENCES", str(max(10, EXAMPLES * 2))))


@schemathesis.auth(refresh_interval=None)
class RoleToken:
    """A valid token of a role the operation accepts (admin where it does, as an operator would
    explore the API). Given as Schemathesis auth, so that its checks drop or spoil it themselves
    to see missing or invalid authentication refused."""

    def get(self, case, context) -> str:
        roles = case.operation.definition.raw.get("x-required-roles") or ["admin"]
        role = "admin" if "admin" in roles else roles[0]
        return issue_dev_token(ServiceSettings(), subject=f"fuzz-{role}", roles=[role], unit="fuzz")

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class CrmSignature(requests.auth.AuthBase):
    """The CRM's HMAC signature over the exact body bytes sent (so the webhook's body is fuzzed,
    not only its signature)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        ts = int(time.time())
        request.headers[TIMESTAMP_HEADER] = str(ts)
        request.headers[SIGNATURE_HEADER] = sign(DEV_WEBHOOK_SECRET, ts, body)
        return request


def _session() -> requests.Session:
    session = requests.Session()
    session.auth = CrmSignature()
    return session


def _schema(stack, service: str):
    return schemathesis.openapi.from_url(f"http://127.0.0.1:{stack.service_ports[service]}/openapi.json")


@pytest.fixture(scope="session")
def fuzz_session() -> requests.Session:
    return _session()


@pytest.fixture(scope="session")
def one_case_through(stack) -> dict:
    """One case driven through all four services, so every kind of resource exists for the
    sequences to find (visits and follow-up calls are made by events, not by a POST)."""
    client = StackClient(stack.service_ports)
    try:
        return run_slice(client, timeout=90, say=lambda _line: None)
    finally:
        client.close()


@pytest.fixture(scope="session")
def dispatch_api(stack):
    return _schema(stack, "dispatch")


@pytest.fixture(scope="session")
def onsite_api(stack):
    return _schema(stack, "onsite")


@pytest.fixture(scope="session")
def quality_api(stack):
    return _schema(stack, "quality")


@pytest.fixture(scope="session")
def feedback_api(stack):
    return _schema(stack, "feedback")


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))

dispatch = schemathesis.pytest.from_fixture("dispatch_api")
onsite = schemathesis.pytest.from_fixture("onsite_api")
quality = schemathesis.pytest.from_fixture("quality_api")
feedback = schemathesis.pytest.from_fixture("feedback_api")


@dispatch.parametrize()
@FUZZ
def test_dispatch(case, fuzz_session):
    case.call_and_validate(session=fuzz_session)


@onsite.parametrize()
@FUZZ
def test_onsite(case, fuzz_session):
    case.call_and_validate(session=fuzz_session)


@quality.parametrize()
@FUZZ
def test_quality(case, fuzz_session):
    case.call_and_validate(session=fuzz_session)


@feedback.parametrize()
@FUZZ
def test_feedback(case, fuzz_session):
    case.call_and_validate(session=fuzz_session)


def _declared_producers(schema) -> set[str]:
    """The operations our OpenAPI links start from (`ResourceLink`s): "METHOD /path" labels."""
    raw = schema.raw_schema["paths"]
    return {f"{method.upper()} {path}" for path, ops in raw.items() for method, op in ops.items()
            if isinstance(op, dict) and any(r.get("links") for r in op.get("responses", {}).values())}


@pytest.mark.parametrize("service", ["dispatch", "onsite", "quality", "feedback"])
def test_stateful(service, stack, fuzz_session, one_case_through, monkeypatch):
    """Call sequences along the links; every response of every step gets the default checks.

    Every sequence may start from a declared producer (the CRM webhook, POST /issues, the lists):
    Schemathesis' own guess leaves out a POST whose body names another service's resource (a
    case id), and those are the very operations that create what the links pass on.
    """
    schema = _schema(stack, service)
    producers = _declared_producers(schema)
    guess = stateful_module.is_likely_root_transition
    monkeypatch.setattr(stateful_module, "is_likely_root_transition",
                        lambda operation, *args: operation.label in producers or guess(operation, *args))
    token = RoleToken()
    steps: Counter[tuple[str, int]] = Counter()

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case):
            # the state machine does not apply the registered auth to every step; marked explicit,
            # so the auth checks probe it with the token removed and spoiled
            token.set(case, token.get(case, None), None)
            case._has_explicit_auth = True

        def get_call_kwargs(self, case):
            return {"session": fuzz_session}

        def after_call(self, response, case):
            steps[(case.operation.label, response.status_code)] += 1

    Sequences.run(settings=settings(max_examples=SEQUENCES, stateful_step_count=6, deadline=None,
                                    derandomize=True, suppress_health_check=list(HealthCheck)))
    # the sequences reached the linked operations with ids that exist
    linked = sum(n for (label, status), n in steps.items() if "{" in label and status < 300)
    assert linked > 0, sorted(steps.items())
