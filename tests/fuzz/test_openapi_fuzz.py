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

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

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


@pytest.mark.parametrize("service", ["dispatch", "onsite", "quality", "feedback"])
def test_stateful(service, stack, fuzz_session):
    """Call sequences along the links; every response of every step gets the default checks."""
    machine = _schema(stack, service).as_state_machine()

    class Sequences(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"session": fuzz_session}

    Sequences.run(settings=settings(max_examples=SEQUENCES, stateful_step_count=6, deadline=None,
                                    derandomize=True, suppress_health_check=list(HealthCheck)))
