"""S7 through the broker: onsite's consumer moves the visit's planned window on ArrivalRescheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.events import EventEnvelope
from shared.events.dispatch import ArrivalRescheduled
from tests.integration.conftest import bearer, producer, running_app, wait_async
from tests.integration.onsite.conftest import NOW, dispatched

pytestmark = pytest.mark.integration


async def test_s7_the_visit_shows_the_rescheduled_window(env):
    opened = dispatched(["eng-s7a", "eng-s7b"])
    case_id = opened.subject
    new_start = NOW + timedelta(days=5)
    moved = ArrivalRescheduled(
        case_id=case_id, previous_arrival=NOW, new_arrival=new_start, reason="crane not on site",
        customer_notified_at=datetime.now(UTC), regional_centre_notified_at=datetime.now(UTC),
        planned_start=new_start, planned_end=new_start + timedelta(days=3), engineer_ids=["eng-s7a", "eng-s7b"])
    envelope = EventEnvelope.wrap(moved, source="/fieldservice/dispatch", subject=case_id, actor="disp-1")
    headers = bearer(env, "dispatcher", "disp-1")
    async with running_app(env, "onsite") as (_app, client):

        async def visit() -> dict | None:
            found = (await client.get("/visits", params={"case_id": case_id}, headers=headers)).json()["items"]
            return found[0] if found else None

        async with producer(env) as p:
            await p.send_and_wait("dispatch.events", opened.to_bytes(), key=case_id.encode())
            first = await wait_async("the visit to open", visit)
            assert datetime.fromisoformat(first["planned_start"]) == NOW
            for _ in range(2):  # a redelivery changes nothing more
                await p.send_and_wait("dispatch.events", envelope.to_bytes(), key=case_id.encode())

        async def moved_visit() -> dict | None:
            found = await visit()
            return found if found and datetime.fromisoformat(found["planned_start"]) == new_start else None

        shown = await wait_async("the visit to show the new window", moved_visit)
        assert datetime.fromisoformat(shown["planned_end"]) == new_start + timedelta(days=3)
        got = await client.get(f"/visits/{shown['id']}", headers=headers)
        assert got.status_code == 200
        assert datetime.fromisoformat(got.json()["planned_start"]) == new_start
        assert got.json()["version"] == first["version"] + 1
