"""A small client for the running stack, used by `make demo` and the end-to-end tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import uuid4

import httpx

from shared.api.auth import issue_dev_token
from shared.api.idempotency import HEADER as IDEMPOTENCY_KEY
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.settings import DEV_WEBHOOK_SECRET, ServiceSettings

T = TypeVar("T")


class ConditionTimeout(AssertionError):
    pass


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.1,
             max_interval: float = 0.5) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout` s.

    The pause between probes grows from `interval` to `max_interval`, so hundreds of concurrent
    waiters (the fault tests at full size) do not flood the services they wait on.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
            if result:
                return result
        except httpx.HTTPError as exc:  # a service busy or restarting: keep waiting
            last_error = exc
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, max_interval)
    suffix = f" ({last_error!r})" if last_error else ""
    raise ConditionTimeout(f"timed out after {timeout}s waiting for {what}{suffix}")


# Methods a retry cannot apply twice; every other request is repeated only with an Idempotency-Key.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RetryingTransport(httpx.HTTPTransport):
    """Retries requests that certainly did not take effect: refused connections and 503s; and, as a
    field client would (decision 0095), a request whose connection broke before its answer came, when
    repeating it is safe: a read, or a write with an Idempotency-Key (the service answers a repeat with
    the first answer). With retries on, every write gets a key of its own.

    A 503 problem means the service could not reach its database, so nothing was committed;
    a refused connection never reached the service. Used while the fault tests restart things.
    """

    def __init__(self, retry_for: float, max_connections: int = 100) -> None:
        super().__init__(limits=httpx.Limits(max_connections=max_connections,
                                             max_keepalive_connections=max_connections))
        self.retry_for = retry_for

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.retry_for and request.method not in SAFE_METHODS and IDEMPOTENCY_KEY not in request.headers:
            request.headers[IDEMPOTENCY_KEY] = str(uuid4())
        repeatable = request.method in SAFE_METHODS or IDEMPOTENCY_KEY in request.headers
        deadline = time.monotonic() + self.retry_for
        while True:
            try:
                response = super().handle_request(request)
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadTimeout):
                # sent, perhaps applied, no answer (a restart, a connection reset or closed under it, or
                # no answer within the timeout while every case is in flight on two cores)
                if not repeatable or time.monotonic() > deadline:
                    raise
            else:
                if response.status_code != 503 or time.monotonic() > deadline:
                    return response
                response.close()
            time.sleep(0.2)


class StackClient:
    """HTTP access to the four services with development tokens."""

    def __init__(self, ports: dict[str, int], settings: ServiceSettings | None = None,
                 webhook_secret: str = DEV_WEBHOOK_SECRET, timeout: float = 10.0, retry_for: float = 0.0,
                 max_connections: int = 100) -> None:
        self.settings = settings or ServiceSettings()
        self.webhook_secret = webhook_secret
        # a thread per concurrent case shares these clients: one connection each, never a wait for one
        self.http = {name: httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout,
                                        transport=RetryingTransport(retry_for, max_connections))
                     for name, port in ports.items()}

    def token(self, role: str, subject: str, **claims: Any) -> str:
        return issue_dev_token(self.settings, subject=subject, roles=[role], **claims)

    def as_(self, role: str, subject: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, subject, **claims)}"}

    def crm_push(self, body: dict[str, Any], timestamp: int | None = None) -> httpx.Response:
        raw = json.dumps(body).encode()
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {
            **self.as_("crm", "crm-system"),
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(self.webhook_secret, ts, raw),
        }
        return self.http["dispatch"].post("/crm/service-requests", content=raw, headers=headers)

    def close(self) -> None:
        for client in self.http.values():
            client.close()


def sample_request(reference: str) -> dict[str, Any]:
    """A realistic CRM service request."""
    return {
        "crm_reference": reference,
        "customer_name": "Jiangsu Grid Substation Co.",
        "site_name": "Wuxi 220kV substation",
        "site_address": "88 Xinhua Road, Wuxi",
        "region": "east",
        "equipment": {"type": "GIS-126kV", "model": "ZF11-126", "quantity": 3},
        "contract_reference": "CT-2026-0042",
        "requested_work": "Installation and commissioning of three GIS bays",
        "urgency": "high",
        "difficulty": "medium",
        "customer_importance": "high",
        "contacts": {
            "account_manager": {"name": "Li Wei", "phone": "+86 510 1111 0001"},
            "customer_contact": {"name": "Zhang Min", "phone": "+86 510 1111 0002"},
            "site_interface": {"name": "Wang Fang", "phone": "+86 510 1111 0003"},
        },
    }
