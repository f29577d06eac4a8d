"""Dispatch's one-request export and erasure asks the other three services (decision 0093): in parallel, with
the caller's token, retrying a timeout or a 5xx, failing with a problem naming the service that never
answered."""

from __future__ import annotations

import httpx
import pytest

from services.dispatch.personal_data import peers
from services.dispatch.settings import DispatchSettings
from shared.api.problems import ServiceUnavailable

SETTINGS = DispatchSettings(onsite_url="http://onsite:8000/", quality_url="http://quality:8000",
                            feedback_url="http://feedback:8000", peer_request_attempts=3)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peers, "RETRY_BASE_SECONDS", 0)


async def test_each_peer_is_asked_with_the_callers_token_and_a_flaky_one_is_retried():
    seen: list[tuple[str, str, str]] = []
    failures = {"quality": 1, "feedback": 1}

    def answer(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        seen.append((host, request.headers["Authorization"], str(request.url.params)))
        if failures.get(host):
            failures[host] -= 1
            if host == "quality":
                raise httpx.ConnectTimeout("slow", request=request)
            return httpx.Response(503)
        return httpx.Response(200, json={"service": host})

    got = await peers.ask_all(SETTINGS, "GET", "/personal-data", authorization="Bearer t",
                              params=[("subject", "li@grid.cn"), ("known_as", "Li Na")],
                              transport=httpx.MockTransport(answer))
    assert got == {"onsite": {"service": "onsite"}, "quality": {"service": "quality"},
                   "feedback": {"service": "feedback"}}
    assert sorted(h for h, _, _ in seen) == ["feedback", "feedback", "onsite", "quality", "quality"]
    assert {auth for _, auth, _ in seen} == {"Bearer t"}
    assert {params for _, _, params in seen} == {"subject=li%40grid.cn&known_as=Li+Na"}


async def test_a_peer_that_never_answers_fails_the_request_naming_it():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "onsite":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={})

    with pytest.raises(ServiceUnavailable) as refused:
        await peers.ask_all(SETTINGS, "POST", "/personal-data/erasures", authorization="Bearer t", json={},
                            transport=httpx.MockTransport(answer))
    assert refused.value.extra == {"service": "onsite"} and "3 attempts" in refused.value.detail


async def test_a_refusal_is_not_retried():
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        return httpx.Response(403, json={"title": "Forbidden"}) if request.url.host == "feedback" else \
            httpx.Response(200, json={})

    with pytest.raises(ServiceUnavailable, match="feedback service refused"):
        await peers.ask_all(SETTINGS, "GET", "/personal-data", authorization="Bearer t",
                            transport=httpx.MockTransport(answer))
    assert calls.count("feedback") == 1
