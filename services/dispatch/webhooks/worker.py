"""The delivery worker of outbound webhooks (decision 0083): a background job of every dispatch replica.

It leases due deliveries (SKIP LOCKED: never two replicas on one), sends each as its CloudEvents
envelope signed per Standard Webhooks, outside any database transaction, at most
`webhook_max_concurrency` at once (and `webhook_max_in_flight_per_subscription` per subscription), and
records the attempt. A delivered one lets the next event of its (subscription, case) go at once.
Nothing here runs in the consumer: the services never wait on a receiver.

`clock` decides what is due (tests move it by hours); the `webhook-timestamp` a receiver checks is
always the real time of the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.settings import DispatchSettings
from services.dispatch.webhooks import domain, service
from services.dispatch.webhooks.service import AttemptResult, Claimed
from shared.api.app import ServiceRuntime
from shared.api.leasing import LeasingWorker
from shared.clock import utcnow
from shared.db import transaction
from shared.observability import WEBHOOK_BACKLOG, WEBHOOK_BACKLOG_AGE, WEBHOOK_DELIVERIES, WEBHOOK_LATENCY

log = logging.getLogger(__name__)

USER_AGENT = "fieldservice-webhooks/1"
MAX_CLIENTS = 256
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class WebhookWorker(LeasingWorker[Claimed]):
    """Sends due deliveries; `run` is registered as a periodic job and keeps running until stop."""

    job_name = "deliver_webhooks"
    claim_failure = "webhook worker: claiming deliveries failed"

    def __init__(self, settings: DispatchSettings, *, clock: Callable[[], datetime] = utcnow,
                 rand: Callable[[], float] = random.random) -> None:
        super().__init__(max_concurrency=settings.webhook_max_concurrency, poll_seconds=settings.webhook_poll_seconds)
        self.settings = settings
        self.clock = clock
        self.rand = rand
        self.policy = domain.RetryPolicy(
            base=timedelta(seconds=settings.webhook_retry_base_seconds),
            max_delay=timedelta(seconds=settings.webhook_retry_max_delay_seconds),
            window=timedelta(hours=settings.webhook_retry_hours))
        self.disable_after = timedelta(days=settings.webhook_disable_after_days)
        # a lease outlives the request it covers; a replica that dies leaves it to expire
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds + 30)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._retired: list[httpx.AsyncClient] = []

    # --- the loop ---------------------------------------------------------------------------------

    async def claim(self, session: AsyncSession, limit: int) -> list[Claimed]:
        return await service.claim(session=session, now=self.clock(), limit=limit, lease=self.lease,
                                   per_subscription=self.settings.webhook_max_in_flight_per_subscription)

    def task_name(self, row: Claimed) -> str:
        return f"webhook-{row.id}"

    async def handle(self, runtime: ServiceRuntime, delivery: Claimed) -> None:
        await self._deliver(runtime, delivery)

    async def stopped(self) -> None:
        await self.close()

    async def _deliver(self, runtime: ServiceRuntime, delivery: Claimed | None) -> None:
        """Send it; while they succeed, go on with the next event of the same subscription and case."""
        while delivery is not None:
            result = await self.send(delivery)
            try:
                async with transaction(runtime.sessions) as session:
                    outcome = await service.record_attempt(
                        session=session, claimed=delivery, result=result, now=self.clock(), policy=self.policy,
                        rand=self.rand(), disable_after=self.disable_after)
            except Exception:
                # the lease expires and the delivery is sent again (same webhook-id): at least once
                log.exception("webhook worker: recording an attempt of delivery %s failed", delivery.id)
                return
            if outcome is not None:
                WEBHOOK_DELIVERIES.labels(self.settings.service_name, outcome.value).inc()
            if outcome != domain.AttemptOutcome.DELIVERED:
                return
            try:
                async with transaction(runtime.sessions) as session:
                    following = await service.claim(
                        session=session, now=self.clock(), limit=1, lease=self.lease,
                        per_subscription=self.settings.webhook_max_in_flight_per_subscription,
                        subscription_id=delivery.subscription_id, case_id=delivery.case_id)
            except Exception:
                log.exception("webhook worker: claiming the next delivery after %s failed", delivery.id)
                return
            delivery = following[0] if following else None

    async def close(self) -> None:
        clients = [*self._clients.values(), *self._retired]
        self._clients, self._retired = {}, []
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()

    # --- one request ------------------------------------------------------------------------------

    def client(self, host: str) -> httpx.AsyncClient:
        """One client per receiving host: requests go to the address checked, and a pooled connection
        (keyed by that address) is never reused for another host name."""
        client = self._clients.get(host)
        if client is None:
            if len(self._clients) >= MAX_CLIENTS:
                self._retired.extend(self._clients.values())
                self._clients.clear()
            s = self.settings
            client = self._clients[host] = httpx.AsyncClient(
                follow_redirects=False, trust_env=False, timeout=httpx.Timeout(s.webhook_timeout_seconds),
                limits=httpx.Limits(max_connections=s.webhook_max_in_flight_per_subscription * 4,
                                    max_keepalive_connections=4),
                headers={"user-agent": USER_AGENT})
        return client

    async def send(self, delivery: Claimed) -> AttemptResult:
        """POST the envelope; never raises: a failure is an attempt result with its error."""
        started = time.monotonic()

        def result(status: int | None, error: str | None) -> AttemptResult:
            seconds = time.monotonic() - started
            WEBHOOK_LATENCY.labels(self.settings.service_name).observe(seconds)
            return AttemptResult(status_code=status, latency_ms=int(seconds * 1000),
                                 error=domain.truncate(error) if error else None)

        allowed = self.settings.webhook_allowed_hosts
        try:
            # the address is checked again at each send: DNS may have changed since the subscription
            target = domain.parse_target(delivery.url, allowed)
            addresses = await service.resolve(target.host, target.port)
            if not addresses:
                return result(None, f"the host {target.host} does not resolve")
            refused = domain.refused_addresses(target.host, addresses, allowed)
            if refused:
                return result(None, f"the host {target.host} resolves to a refused address "
                                    f"({', '.join(sorted({str(a) for a in refused}))})")
        except Exception as exc:  # a URL that became invalid (allow-list changed)
            return result(None, f"the URL is not allowed: {getattr(exc, 'detail', exc)}")
        # connect to the address just checked (a DNS answer changed since cannot redirect the request);
        # the name still goes in Host and in TLS (SNI and the certificate check)
        url = httpx.URL(delivery.url)
        pinned = url.copy_with(host=str(addresses[0]))
        extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
        msg_id = str(delivery.event_id)
        timestamp = utcnow()
        headers = {
            "host": url.netloc.decode("ascii"),
            "content-type": CONTENT_TYPE,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": domain.signature_header(delivery.secrets, msg_id=msg_id, timestamp=timestamp,
                                                         body=delivery.body),
        }
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                async with self.client(target.host).stream("POST", pinned, content=delivery.body.encode(),
                                                           headers=headers, extensions=extensions) as response:
                    await self._read_capped(response)
                    status = response.status_code
        except TimeoutError:
            return result(None, f"no answer within {self.settings.webhook_timeout_seconds:g} s")
        except Exception as exc:  # connection refused or reset, TLS, a malformed answer, ...
            return result(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        if domain.succeeded(status):
            return result(status, None)
        if 300 <= status < 400:
            return result(status, "redirects are not followed")
        return result(status, f"the receiver answered {status}")

    async def _read_capped(self, response: httpx.Response) -> None:
        """Read at most `webhook_max_response_bytes` of the answer; the rest is dropped with the connection."""
        remaining = self.settings.webhook_max_response_bytes
        async for chunk in response.aiter_raw():
            remaining -= len(chunk)
            if remaining <= 0:
                break


async def collect_backlog(runtime: ServiceRuntime) -> None:
    """/metrics: pending deliveries and the age of the oldest, per subscription."""
    async with runtime.sessions() as session:
        rows = await service.backlog(session=session)
    name = runtime.settings.service_name
    WEBHOOK_BACKLOG.clear()
    WEBHOOK_BACKLOG_AGE.clear()
    for subscription_id, pending, age in rows:
        WEBHOOK_BACKLOG.labels(name, str(subscription_id)).set(pending)
        WEBHOOK_BACKLOG_AGE.labels(name, str(subscription_id)).set(age)
