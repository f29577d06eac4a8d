"""The fault tests' client repeats a request only when repeating is safe (decision 0095): a read, or a write
with an Idempotency-Key; a request sent without an answer (a broken connection, a read timeout) is one of
those it may have to repeat."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from devstack.client import RetryingTransport
from shared.api.idempotency import HEADER as IDEMPOTENCY_KEY


def _server(failures: list[type[httpx.RequestError]], seen: list[httpx.Request]) -> Callable[..., httpx.Response]:
    """In place of the network: each request is recorded; the first ones fail as listed, then 201."""

    def handle(_: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if failures:
            raise failures.pop(0)("no answer", request=request)
        return httpx.Response(201, request=request)

    return handle


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError])
def test_a_keyed_write_without_an_answer_is_sent_again_with_the_same_key(monkeypatch: pytest.MonkeyPatch,
                                                                          failure: type[httpx.RequestError]) -> None:
    seen: list[httpx.Request] = []
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", _server([failure], seen))
    monkeypatch.setattr("devstack.client.time.sleep", lambda _: None)
    response = RetryingTransport(retry_for=5.0).handle_request(httpx.Request("POST", "http://onsite/visits"))
    assert response.status_code == 201 and len(seen) == 2
    assert seen[0].headers[IDEMPOTENCY_KEY] == seen[1].headers[IDEMPOTENCY_KEY]


def test_without_retries_a_write_is_never_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", _server([httpx.ReadTimeout], seen))
    with pytest.raises(httpx.ReadTimeout):
        RetryingTransport(retry_for=0.0).handle_request(httpx.Request("POST", "http://onsite/visits"))
    assert len(seen) == 1 and IDEMPOTENCY_KEY not in seen[0].headers
