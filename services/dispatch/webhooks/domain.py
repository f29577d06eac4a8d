"""Rules of outbound webhooks (decision 0083), without I/O: which URL is safe, which subscription
wants an event, which delivery goes next, when a failed one is tried again, signatures."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID

from standardwebhooks.webhooks import Webhook

from shared.messages import msg
from shared.problems import InvalidInput

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # tried again later
    DEAD_LETTERED = "dead_lettered"  # the last attempt failed: no more


# --- URL safety -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Where a subscription's URL points."""

    scheme: str
    host: str
    port: int


def _url_refused(message: str, kind: str = "url_not_allowed") -> InvalidInput:
    return InvalidInput(msg("url: {message}", message=message), field="url",
                        errors=[{"field": "body.url", "message": message, "type": kind}])


def parse_target(url: str, allowed_hosts: Sequence[str]) -> Target:
    """The URL's shape: absolute, HTTPS (plain HTTP only for an allow-listed host), no credentials,
    no fragment. Raises a 422 problem naming `url`."""
    if len(url) > MAX_URL_LENGTH:
        raise _url_refused(f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _url_refused(f"not a valid URL ({exc})", "url_parsing") from None
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise _url_refused("an absolute https:// URL is required", "url_scheme")
    if parts.username is not None or parts.password is not None:
        raise _url_refused("credentials in the URL are not accepted (the signature authenticates us)")
    if parts.fragment:
        raise _url_refused("a fragment is never sent: remove it")
    if any(ch.isspace() for ch in url):
        raise _url_refused("no whitespace in a URL", "url_parsing")
    if parts.scheme == "http" and not host_allowed(host, [], allowed_hosts):
        raise _url_refused("HTTPS is required (plain HTTP only for hosts of WEBHOOK_ALLOWED_HOSTS)", "url_scheme")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80))


def _entry_network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


def host_allowed(host: str, addresses: Iterable[IPAddress], allowed_hosts: Sequence[str]) -> bool:
    """An allow-list entry names the host itself, or an IP network holding the host or every address."""
    host = host.lower().rstrip(".")
    names = {e.strip().lower().rstrip(".") for e in allowed_hosts if _entry_network(e) is None}
    if host in names:
        return True
    networks = [n for e in allowed_hosts if (n := _entry_network(e)) is not None]
    if not networks:
        return False
    literal = _literal(host)
    candidates = [literal] if literal is not None else list(addresses)
    return bool(candidates) and all(any(a.version == n.version and a in n for n in networks) for a in candidates)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address: not private, loopback, link-local, shared (CGNAT),
    multicast, reserved or unspecified (an IPv4 address mapped into IPv6 is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address.sixtofour is not None or address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast


def refused_addresses(host: str, addresses: Sequence[IPAddress], allowed_hosts: Sequence[str]) -> list[IPAddress]:
    """The addresses a request to `host` must not go to (empty: safe). A host that resolves to
    nothing is refused as a whole (the caller reports it)."""
    if host_allowed(host, addresses, allowed_hosts):
        return []
    return [a for a in addresses if not is_public(a)]


def check_addresses(target: Target, addresses: Sequence[IPAddress], allowed_hosts: Sequence[str]) -> None:
    """Refuse (422 naming `url`) a host that does not resolve or resolves to a non-public address."""
    if not addresses:
        raise _url_refused(f"the host {target.host} does not resolve", "url_unresolvable")
    refused = refused_addresses(target.host, addresses, allowed_hosts)
    if refused:
        shown = ", ".join(sorted({str(a) for a in refused}))
        raise _url_refused(f"the host {target.host} resolves to a private, loopback or link-local address "
                           f"({shown}); such targets need an entry in WEBHOOK_ALLOWED_HOSTS")


# --- which subscription wants an event ------------------------------------------------------------

def wants(event_types: Sequence[str] | None, region: str | None, *, event_type: str,
          case_region: str | None) -> bool:
    """A subscription wants an event of one of its types (None: all) of a case in its region (None: any)."""
    if event_types is not None and event_type not in event_types:
        return False
    return region is None or (case_region is not None and case_region == region)


# --- ordering -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueuedDelivery:
    """What the ordering rule looks at of one delivery of a (subscription, case)."""

    id: UUID
    seq: int
    status: DeliveryStatus
    next_attempt_at: datetime
    leased_until: datetime | None = None


def next_to_send(deliveries: Iterable[QueuedDelivery], now: datetime) -> QueuedDelivery | None:
    """The delivery of one (subscription, case) to send now, or None.

    Only the earliest pending one may go (in the order dispatch recorded the events): the later
    ones wait until it is delivered or dead-lettered. It goes when due and nobody holds it (a
    replica sending it holds a lease). `service.claim` is this rule in SQL."""
    pending = sorted((d for d in deliveries if d.status == DeliveryStatus.PENDING), key=lambda d: d.seq)
    if not pending:
        return None
    head = pending[0]
    if head.next_attempt_at > now or (head.leased_until is not None and head.leased_until > now):
        return None
    return head


# --- retries --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)
    window: timedelta = timedelta(hours=24)  # from the event's arrival, then dead-lettered
    jitter: float = 0.5  # a delay is cut by up to this fraction at random


def retry_delay(attempt: int, policy: RetryPolicy, rand: float) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempt-1), capped, less up to `jitter` of it.
    `rand` is a number in [0, 1) (random.random() in the worker)."""
    exponent = min(max(attempt, 1) - 1, 40)
    raw = min(policy.base * (2 ** exponent), policy.max_delay)
    return raw * (1 - policy.jitter * min(max(rand, 0.0), 1.0))


def after_failure(*, attempt: int, queued_at: datetime, now: datetime, policy: RetryPolicy,
                  rand: float) -> datetime | None:
    """When to try again after failed attempt number `attempt`, or None: dead-letter it.

    Retries go on for `policy.window` after the event was queued; the last one is made at the
    window's end, so a receiver is given the whole window."""
    deadline = queued_at + policy.window
    if now >= deadline:
        return None
    return min(now + retry_delay(attempt, policy, rand), deadline)


def schedule(policy: RetryPolicy, rand: float = 0.0) -> list[timedelta]:
    """Offsets from the first attempt of every attempt a never-answering receiver gets (documentation,
    tests): the same rule as `after_failure`."""
    offsets, now, attempt = [timedelta(0)], timedelta(0), 1
    origin = datetime(2000, 1, 1)
    while (nxt := after_failure(attempt=attempt, queued_at=origin, now=origin + now, policy=policy,
                                rand=rand)) is not None:
        now = nxt - origin
        offsets.append(now)
        attempt += 1
    return offsets


def should_disable(failing_since: datetime | None, now: datetime, disable_after: timedelta) -> bool:
    """A subscription failing without a single success for `disable_after` is disabled."""
    return failing_since is not None and now - failing_since >= disable_after


def succeeded(status_code: int | None) -> bool:
    """2xx is a delivery; anything else (redirects too: they are not followed) is a failure."""
    return status_code is not None and 200 <= status_code < 300


# --- secrets and signatures -----------------------------------------------------------------------

def format_secret(raw: bytes) -> str:
    """The Standard Webhooks form of a secret: `whsec_` + base64."""
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def signing_secrets(current: str, previous: str | None, previous_until: datetime | None,
                    now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one while its grace lasts."""
    secrets = [current]
    if previous is not None and previous_until is not None and now < previous_until:
        secrets.append(previous)
    return secrets


def signature_header(secrets: Sequence[str], *, msg_id: str, timestamp: datetime, body: str) -> str:
    """`webhook-signature`: one `v1,<base64 HMAC-SHA256>` per secret, space-separated."""
    return " ".join(Webhook(s).sign(msg_id=msg_id, timestamp=timestamp, data=body) for s in secrets)


def truncate(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
