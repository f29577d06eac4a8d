"""A webhook receiver on loopback for the tests that run the services as processes (e2e, faults).

A plain `http.server` in a thread, as an integrator's endpoint would be: every request is checked
with the `standardwebhooks` library unmodified (`Webhook(secret).verify(body, headers)`), then
answered with what `answer` says (200 unless told otherwise). It keeps what it accepted in arrival
order and de-duplicates on `webhook-id` as the Standard Webhooks receivers are told to (delivery is
at least once, decision 0083): `received` holds every accepted request, `events` each id once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass(frozen=True)
class Received:
    """One verified request: the CloudEvents envelope, the headers it came with and the sender's TCP port."""

    envelope: dict[str, Any]
    headers: dict[str, str]
    peer_port: int = 0

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class WebhookReceiver:
    """Listens on 127.0.0.1 (a free port); `url` is the subscription's target."""

    def __init__(self) -> None:
        self.secret: str | None = None  # set from the subscription's answer; 404 until then
        # the status to answer a verified request with (it may block: it runs outside the receiver's lock)
        self.answer: Callable[[Received], int] = lambda _request: 200
        self.requests = 0
        self.received: list[Received] = []
        self.rejected: list[str] = []  # verification failures
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.accept(body, {k.lower(): v for k, v in self.headers.items()},
                                         self.client_address[1])
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (a fault test killed it): it never learns, and sends again

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test reads what was received

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/fieldservice"

    def accept(self, body: bytes, headers: dict[str, str], peer_port: int = 0) -> int:
        with self._lock:
            self.requests += 1
            secret = self.secret
        if secret is None:
            return 404
        try:
            envelope = Webhook(secret).verify(body, headers)
        except WebhookVerificationError as exc:
            with self._lock:
                self.rejected.append(f"{headers.get('webhook-id')}: {exc}")
            return 400
        request = Received(envelope, headers, peer_port)
        status = self.answer(request)
        if 200 <= status < 300:
            with self._lock:  # accepted: processed, whether or not the answer reaches the sender
                self.received.append(request)
        return status

    def events(self, case_id: str | None = None) -> list[dict[str, Any]]:
        """The accepted envelopes in arrival order, each webhook-id once (a receiver's de-duplication),
        of one case (`subject`) or all."""
        seen: set[str] = set()
        found = []
        with self._lock:
            for r in self.received:
                if r.webhook_id not in seen and (case_id is None or r.envelope["subject"] == case_id):
                    seen.add(r.webhook_id)
                    found.append(r.envelope)
        return found

    def copies(self) -> dict[str, int]:
        """How many times each webhook-id was accepted."""
        counts: dict[str, int] = {}
        with self._lock:
            for r in self.received:
                counts[r.webhook_id] = counts.get(r.webhook_id, 0) + 1
        return counts

    @contextmanager
    def running(self) -> Iterator[WebhookReceiver]:
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(10)


def subscribe(http: Any, headers: dict[str, str], receiver: WebhookReceiver, **body: Any) -> dict[str, Any]:
    """Register a subscription to `receiver` over dispatch's API (`http`: its httpx client); the receiver
    takes the signing secret from the answer (shown only there)."""
    r = http.post("/webhook-subscriptions", headers=headers, json={"url": receiver.url, **body})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    assert created["secret"].startswith("whsec_")
    receiver.secret = created["secret"]
    return created

