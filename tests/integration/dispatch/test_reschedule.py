"""S7 over HTTP: a reschedule re-checks the team under the S3 rules and moves its bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.dispatch.staffing.models import EngineerAssignment
from tests.integration.conftest import read_topic
from tests.integration.dispatch.conftest import DispatchFlow, dispatch_flow
from tests.integration.dispatch.test_preparation_phase import events_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def flow(env):
    async with dispatch_flow(env, consumer_enabled=False) as f:
        yield f


async def bookings(flow: DispatchFlow, case_id: str) -> dict[str, tuple[datetime, datetime]]:
    async with flow.app.state.sessions() as session:
        rows = (await session.execute(select(EngineerAssignment).where(
            EngineerAssignment.case_id == case_id, EngineerAssignment.released_at.is_(None)))).scalars()
        return {a.engineer_id: (a.planned_start, a.planned_end) for a in rows}


async def test_s7_reschedule_refuses_naming_the_double_booked_engineer_then_moves_the_bookings(flow, env):
    case, (first, second) = await flow.ready_case()
    assert (r := await flow.c.post(f"/cases/{case['id']}/dispatch", headers=flow.d)).status_code == 200, r.text
    before = await bookings(flow, case["id"])
    # `second` is booked on another case from day 10 to day 13
    other = await flow.new_case()
    assert (r := await flow.assign(other["id"], [second, await flow.engineer()], days=(10, 13))).status_code == 200
    now = datetime.now(UTC)
    body = {"new_arrival": (now + timedelta(days=9)).isoformat(), "reason": "crane not on site",
            "customer_notified_at": now.isoformat(), "regional_centre_notified_at": now.isoformat()}
    r = await flow.c.post(f"/cases/{case['id']}/arrival-reschedules", headers=flow.d, json=body)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["gate"] == "arrival reschedule"
    assert problem["missing_conditions"] == [
        f"S3: engineer {second} is double-booked in the planned window (case {other['crm_reference']})"]
    assert await bookings(flow, case["id"]) == before  # nothing moved

    new_arrival = now + timedelta(days=20)
    r = await flow.c.post(f"/cases/{case['id']}/arrival-reschedules", headers=flow.d,
                          json={**body, "new_arrival": new_arrival.isoformat()})
    assert r.status_code == 200, r.text
    moved = r.json()
    shift = datetime.fromisoformat(moved["planned_start"]) - before[first][0]
    assert shift > timedelta(days=17)
    after = await bookings(flow, case["id"])
    assert after == {e: (s + shift, end + shift) for e, (s, end) in before.items()}
    assert datetime.fromisoformat(moved["planned_end"]) == before[first][1] + shift

    # the old window is free again, the new one is taken
    old_slot, new_slot = await flow.new_case(), await flow.new_case()
    taken = await flow.assign(old_slot["id"], [first, await flow.engineer()])
    assert taken.status_code == 200, taken.text
    refused = await flow.assign(new_slot["id"], [await flow.engineer(), second], days=(21, 22))
    assert refused.status_code == 409 and f"{second} is double-booked" in refused.text

    messages = await read_topic(env, "dispatch.events",
                                stop_when=lambda ms: events_of(ms, case["id"], "ArrivalRescheduled"))
    event = events_of(messages, case["id"], "ArrivalRescheduled")[0]["data"]
    assert datetime.fromisoformat(event["planned_start"]) == datetime.fromisoformat(moved["planned_start"])
    assert datetime.fromisoformat(event["planned_end"]) == datetime.fromisoformat(moved["planned_end"])
    assert sorted(event["engineer_ids"]) == sorted([first, second])
