"""Schemathesis against every service's OpenAPI, on the running stack, with valid tokens.

All default checks: no server error, responses match their schema, invalid data is rejected,
missing authentication is refused. Each operation alone, then stateful: sequences of calls
following the OpenAPI links (a case the CRM created, then read, acknowledged, planned...; a
visit listed, then worked on). A bounded run in `make test` (FUZZ_EXAMPLES per operation,
FUZZ_SEQUENCES sequences per service); `make fuzz` runs long.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.errors import FlakyStrategyDefinition

from devstack.client import StackClient
from devstack.demo import run_slice
from shared.api.auth import issue_dev_token
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET, ServiceSettings

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# stateful: sequences of calls that follow the OpenAPI links (create, then use what was created)
SEQUENCES = int(os.environ.get("FUZZ_SEQUENCES", str(max(10, EXAMPLES * 2))))
MAX_STALLED_RESTARTS = 5  # new runs in a row that gave up at once (see test_stateful)


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


def _ids_in(body: Any) -> set[str]:
    """Every id a response body names (`id` and `..._id` members at any depth)."""
    found: set[str] = set()
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found |= {str(v) for k, v in item.items() if (k == "id" or k.endswith("_id")) and isinstance(v, str | int)}
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _lists_start_sequences(context: schemathesis.HookContext, path: str, methods: dict[str, Any]) -> None:
    """The list operations our OpenAPI links start from (`GET /issues`, `GET /follow-up-calls`...)
    become entry points of the sequences: without their optional `..._id` filters, which
    Schemathesis reads as foreign keys to a resource this service does not make, so that it would
    not start a sequence there. (The filters are fuzzed by the per-operation tests.)"""
    for method, operation in methods.items():
        if method != "get" or not isinstance(operation, dict) or "{" in path:
            continue
        if any(isinstance(r, dict) and r.get("links") for r in operation.get("responses", {}).values()):
            operation["parameters"] = [p for p in operation.get("parameters", [])
                                       if not (p.get("in") == "query" and p.get("name", "").endswith("_id"))]


# The operation found the resource the id names: it did the work, or refused it for the
# resource's state (409) or a stale or missing ETag (412), which only an existing resource has.
FOUND = frozenset({409, 412})


@dataclass
class SequenceLog:
    scenarios: int = 0
    restarts: int = 0
    # (operation, status, whether its path ids are ids an earlier step of the sequence returned)
    steps: Counter[tuple[str, int, bool]] = field(default_factory=Counter)
    failures: list[tuple[str, BaseException]] = field(default_factory=list)

    def linked(self, statuses: Callable[[int], bool]) -> int:
        return sum(n for (_label, status, linked), n in self.steps.items() if linked and statuses(status))


@pytest.mark.parametrize("service", ["dispatch", "onsite", "quality", "feedback"])
def test_stateful(service, stack, fuzz_session, one_case_through):
    """Call sequences along the links (Schemathesis' state machine, public hooks only); every
    response of every step gets the default checks, and linked operations are reached with ids an
    earlier step returned, which name resources that exist (2xx, or 409/412 for their state).

    Hypothesis replays a sequence's opening to derive the next one; against a live API whose
    data changed meanwhile the replay can draw differently, and Hypothesis stops with
    `FlakyStrategyDefinition` (data generation depending on external state). That is no failure of
    the API: the run goes on with new sequences up to the budget, as Schemathesis' own runner does.
    A check that failed is never lost that way: failures are recorded as they happen.
    """
    schema = _schema(stack, service)
    schema.hooks.hook("before_process_path")(_lists_start_sequences)
    log = SequenceLog()

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            log.scenarios += 1
            self.returned: set[str] = set()

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"session": fuzz_session}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            ids = {str(v) for v in (case.path_parameters or {}).values()}
            log.steps[(case.operation.label, response.status_code, bool(ids) and ids <= self.returned)] += 1
            with contextlib.suppress(ValueError):
                self.returned |= _ids_in(response.json())

        def validate_response(self, response: Any, case: schemathesis.Case,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            try:
                super().validate_response(response, case, additional_checks=additional_checks, **kwargs)
            except BaseException as exc:  # a FailureGroup is a BaseExceptionGroup
                log.failures.append((case.operation.label, exc))
                raise

    base = settings(Sequences.TestCase.settings, stateful_step_count=6, database=None)
    stalled = 0
    while log.scenarios < SEQUENCES:
        started_at = log.scenarios
        try:
            # the first run is derandomized (the same sequences every time); restarts draw anew
            Sequences.run(settings=settings(base, max_examples=SEQUENCES - log.scenarios,
                                            derandomize=log.restarts == 0))
            break
        except FlakyStrategyDefinition:
            if log.failures:
                raise log.failures[0][1] from None
            log.restarts += 1
            stalled = stalled + 1 if log.scenarios - started_at < 2 else 0
            assert stalled < MAX_STALLED_RESTARTS, f"no progress: {log.scenarios} sequences, {log.restarts} restarts"
    assert not log.failures, log.failures
    # the sequences reached the linked operations with ids that exist (returned by an earlier step)
    assert log.linked(lambda status: status < 300 or status in FOUND) > 0, sorted(log.steps.items())
    print(f"{service}: {log.scenarios} sequences, {sum(log.steps.values())} calls, linked with a returned id: "
          f"{log.linked(lambda status: status < 300)} 2xx, {log.linked(FOUND.__contains__)} 409/412; "
          f"{log.restarts} restarts")
