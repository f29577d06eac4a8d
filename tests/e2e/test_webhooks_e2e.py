"""Issue 14, decision 0083: a subscription receives every chosen event of a case driven through all
four services (processes, HTTP and Kafka), in the case's order, each verified by a receiver on loopback
with the `standardwebhooks` library unmodified, and no webhook-id twice.

The receiver's check of `webhook-timestamp` (five minutes either way) holds under `make test-calendar`:
faketime shifts the clock of this process and of every service process by the same offset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.client import StackClient, wait_for
from devstack.demo import (
    Journey,
    case_timeline,
    complete_on_site,
    prepare_and_dispatch,
    raise_quality_issue,
    work_on_site,
)
from tests.webhook_receiver import WebhookReceiver, subscribe

pytestmark = pytest.mark.e2e

# The integrator's choice: two events of each service, each caused by the one before it, so dispatch
# records them in their time order. (Events of two services that happen at once, like onsite's sign-out
# and feedback's scheduled call after ServiceCompleted, reach dispatch in either order, and the stream
# follows dispatch's order, decision 0083; the subscription to every type below checks those per service.)
CHOSEN = [
    "ServiceRequestReceived", "ServiceDispatched",  # dispatch
    "EngineerArrived",  # onsite: the visit opened from ServiceDispatched
    "IssueLogged", "IssueResolvedOnSite",  # quality
    "ServiceCompleted",  # onsite: its completion gate waits for the resolution
    "FollowUpCallScheduled",  # feedback: from ServiceCompleted
]


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    with WebhookReceiver().running() as chosen, WebhookReceiver().running() as everything:
        yield chosen, everything


def _ids(entries: list[dict[str, Any]], key: str) -> list[str]:
    return [str(e[key]) for e in entries]


def test_every_chosen_event_of_a_case_through_four_services_arrives_once_in_order_verified(
        client: StackClient, receivers: tuple[WebhookReceiver, WebhookReceiver]) -> None:
    chosen, everything = receivers
    admin, dispatch = client.as_("integration_admin", "integrator-e2e"), client.http["dispatch"]
    subscriptions = [subscribe(dispatch, admin, chosen, region="east", event_types=CHOSEN),
                     subscribe(dispatch, admin, everything, region="east")]
    try:
        j = Journey(client, 90, lambda _line: None, team_size=1, issue_path="on_site")
        for phase in (prepare_and_dispatch, work_on_site, raise_quality_issue, complete_on_site):
            phase(j)
        case_id, dispatcher = j.ids["case"], client.as_("dispatcher", "disp-001")

        def delivered() -> list[dict[str, Any]] | None:
            """The case's timeline once both receivers hold exactly its events (the chosen ones, all)."""
            timeline = case_timeline(client, case_id, dispatcher)
            wanted = [e for e in timeline if e["event_type"] in CHOSEN]
            done = ({e["event_type"] for e in wanted} == set(CHOSEN)
                    and set(_ids(wanted, "event_id")) == set(_ids(chosen.events(case_id), "id"))
                    and set(_ids(timeline, "event_id")) == set(_ids(everything.events(case_id), "id")))
            return timeline if done else None

        timeline = wait_for("every event of the case at both receivers", delivered, 60)
    finally:
        for sub in subscriptions:
            dispatch.delete(f"/webhook-subscriptions/{sub['id']}", headers=admin)

    # every chosen type, in the case timeline's order, each verified and accepted once
    got = chosen.events(case_id)
    assert [e["type"] for e in got] == CHOSEN
    assert _ids(got, "id") == _ids([e for e in timeline if e["event_type"] in CHOSEN], "event_id")
    assert {e["source"] for e in got} == {f"/fieldservice/{s}" for s in ("dispatch", "onsite", "quality", "feedback")}
    for receiver in (chosen, everything):
        assert receiver.rejected == []
        mine = [r for r in receiver.received if r.envelope["subject"] == case_id]
        assert all(r.webhook_id == r.envelope["id"] for r in mine)  # webhook-id is the event id
        assert len({r.webhook_id for r in mine}) == len(mine), "no webhook-id twice"
        assert all(r.headers["content-type"].startswith("application/cloudevents+json") for r in mine)
    # every event of the case to the subscription without a filter, each service's in its order
    for source in {e["source"] for e in timeline}:
        assert [e["id"] for e in everything.events(case_id) if e["source"] == source] == \
            [str(e["event_id"]) for e in timeline if e["source"] == source], source
