"""Rules of outbound webhooks (decision 0083): URL safety, who wants an event, the ordering decision,
the retry schedule, disabling, signatures the `standardwebhooks` library verifies."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from uuid import uuid4

import pytest
from standardwebhooks import Webhook

from services.dispatch.webhooks import domain
from services.dispatch.webhooks.domain import DeliveryStatus, QueuedDelivery, RetryPolicy
from shared.api.problems import InvalidInput

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def ips(*values: str) -> list[domain.IPAddress]:
    return [ipaddress.ip_address(v) for v in values]


# --- URL safety -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, kind", [
    ("ftp://example.com/x", "url_scheme"),
    ("example.com/hook", "url_scheme"),
    ("http://example.com/hook", "url_scheme"),  # plain HTTP only for allow-listed hosts
    ("https://user:pw@example.com/hook", "url_not_allowed"),
    ("https://example.com/hook#frag", "url_not_allowed"),
    ("https://example.com:99999/hook", "url_parsing"),
    ("https://" + "a" * 2000 + ".com/", "url_not_allowed"),
])
def test_url_shape_refused_naming_the_field(url, kind):
    with pytest.raises(InvalidInput) as caught:
        domain.parse_target(url, [])
    assert caught.value.extra["field"] == "url"
    assert caught.value.extra["errors"][0]["field"] == "body.url"
    assert caught.value.extra["errors"][0]["type"] == kind


def test_https_target_and_plain_http_for_allow_listed_hosts():
    assert domain.parse_target("https://Hooks.Example.com/in", []) == domain.Target("https", "hooks.example.com", 443)
    assert domain.parse_target("http://localhost:8080/in", ["localhost"]).port == 8080
    assert domain.parse_target("http://127.0.0.1:9/in", ["127.0.0.0/8"]).host == "127.0.0.1"


@pytest.mark.parametrize("address", [
    "10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1",
])
def test_private_loopback_link_local_addresses_are_refused(address):
    assert not domain.is_public(ipaddress.ip_address(address))
    target = domain.Target("https", "hooks.example.com", 443)
    with pytest.raises(InvalidInput) as caught:
        domain.check_addresses(target, ips("93.184.216.34", address), [])
    assert caught.value.extra["field"] == "url"
    assert str(ipaddress.ip_address(address)) in caught.value.detail


def test_public_addresses_pass_and_unresolvable_hosts_are_refused():
    target = domain.Target("https", "hooks.example.com", 443)
    domain.check_addresses(target, ips("93.184.216.34", "2606:2800:220:1::1"), [])
    with pytest.raises(InvalidInput, match="does not resolve"):
        domain.check_addresses(target, [], [])


def test_allow_list_by_name_or_network():
    assert domain.refused_addresses("localhost", ips("127.0.0.1", "::1"), ["localhost"]) == []
    assert domain.refused_addresses("svc.internal", ips("10.0.0.5"), ["10.0.0.0/8"]) == []
    # a network entry covers a host only if every address it resolves to lies inside
    assert domain.refused_addresses("svc.internal", ips("10.0.0.5", "192.168.0.1"), ["10.0.0.0/8"]) \
        == ips("10.0.0.5", "192.168.0.1")
    assert domain.refused_addresses("other", ips("127.0.0.1"), ["localhost"]) == ips("127.0.0.1")


# --- who wants an event ---------------------------------------------------------------------------

def test_a_subscription_wants_its_types_in_its_region():
    assert domain.wants(None, None, event_type="EngineerArrived", case_region=None)
    assert domain.wants(["EngineerArrived"], None, event_type="EngineerArrived", case_region="east")
    assert not domain.wants(["ServiceDispatched"], None, event_type="EngineerArrived", case_region="east")
    assert domain.wants(None, "east", event_type="EngineerArrived", case_region="east")
    assert not domain.wants(None, "east", event_type="EngineerArrived", case_region="west")
    assert not domain.wants(None, "east", event_type="SpecificationTemplateRevised", case_region=None)


# --- ordering -------------------------------------------------------------------------------------

def queued(seq: int, status: DeliveryStatus = DeliveryStatus.PENDING, due: timedelta = timedelta(0),
           leased: timedelta | None = None) -> QueuedDelivery:
    return QueuedDelivery(id=uuid4(), seq=seq, status=status, next_attempt_at=NOW + due,
                          leased_until=NOW + leased if leased is not None else None)


def test_only_the_earliest_pending_delivery_of_a_subscription_and_case_goes():
    first, second = queued(1), queued(2)
    assert domain.next_to_send([second, first], NOW) == first


def test_a_later_event_waits_while_the_earlier_one_backs_off_or_is_in_flight():
    assert domain.next_to_send([queued(1, due=timedelta(minutes=5)), queued(2)], NOW) is None
    assert domain.next_to_send([queued(1, leased=timedelta(seconds=30)), queued(2)], NOW) is None
    # an expired lease (a replica died mid-request) lets it go again
    head = queued(1, leased=timedelta(seconds=-1))
    assert domain.next_to_send([head, queued(2)], NOW) == head


def test_delivered_and_dead_lettered_ones_no_longer_hold_the_case():
    nxt = queued(3)
    assert domain.next_to_send([queued(1, DeliveryStatus.DELIVERED), queued(2, DeliveryStatus.DEAD_LETTERED), nxt],
                               NOW) == nxt
    assert domain.next_to_send([queued(1, DeliveryStatus.DELIVERED)], NOW) is None


# --- retries --------------------------------------------------------------------------------------

def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens():
    policy = RetryPolicy(base=timedelta(seconds=10), max_delay=timedelta(hours=1), jitter=0.5)
    assert [domain.retry_delay(n, policy, 0.0).total_seconds() for n in range(1, 6)] == [10, 20, 40, 80, 160]
    assert domain.retry_delay(30, policy, 0.0) == timedelta(hours=1)
    assert domain.retry_delay(3, policy, 0.999).total_seconds() == pytest.approx(20.02, abs=0.01)
    for rand in (0.0, 0.3, 0.99):
        assert timedelta(seconds=5) <= domain.retry_delay(1, policy, rand) <= timedelta(seconds=10)


def test_retries_last_the_whole_window_then_dead_letter():
    policy = RetryPolicy()  # 24 h
    offsets = domain.schedule(policy)
    assert offsets[0] == timedelta(0) and offsets[-1] == timedelta(hours=24)
    assert all(b > a for a, b in pairwise(offsets))
    assert max(b - a for a, b in pairwise(offsets)) <= timedelta(hours=1)
    assert domain.after_failure(attempt=40, queued_at=NOW - timedelta(hours=24), now=NOW, policy=policy,
                                rand=0.5) is None
    assert domain.after_failure(attempt=40, queued_at=NOW - timedelta(hours=23, minutes=59), now=NOW,
                                policy=policy, rand=0.0) == NOW + timedelta(minutes=1)


def test_a_subscription_failing_for_days_is_disabled():
    five_days = timedelta(days=5)
    assert not domain.should_disable(None, NOW, five_days)
    assert not domain.should_disable(NOW - timedelta(days=4), NOW, five_days)
    assert domain.should_disable(NOW - five_days, NOW, five_days)


@pytest.mark.parametrize("status, ok", [(200, True), (204, True), (299, True), (301, False), (404, False),
                                        (500, False), (None, False)])
def test_only_2xx_is_a_delivery(status, ok):
    assert domain.succeeded(status) is ok


# --- signatures -----------------------------------------------------------------------------------

def test_signatures_verify_with_the_standardwebhooks_library_and_rotation_sends_two():
    old, new = domain.format_secret(b"o" * 32), domain.format_secret(b"n" * 32)
    assert old.startswith("whsec_")
    body = json.dumps({"id": "e-1", "type": "EngineerArrived"})
    now = datetime.now(UTC)
    during = domain.signing_secrets(new, old, now + timedelta(hours=1), now)
    assert during == [new, old]
    header = domain.signature_header(during, msg_id="e-1", timestamp=now, body=body)
    assert len(header.split(" ")) == 2 and all(s.startswith("v1,") for s in header.split(" "))
    headers = {"webhook-id": "e-1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": header}
    assert Webhook(new).verify(body, headers) == json.loads(body)
    assert Webhook(old).verify(body, headers) == json.loads(body)
    after = domain.signing_secrets(new, old, now + timedelta(hours=1), now + timedelta(hours=2))
    assert after == [new]
