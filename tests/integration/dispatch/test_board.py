"""The dispatcher's board over HTTP (decision 0087): bookings, leave, expiring certificates, conflicts,
unstaffed cases, site-local days, the period limit and region scoping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.integration.conftest import bearer, running_app
from tests.integration.dispatch.conftest import DispatchFlow, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def flow(env):
    async with running_app(env, "dispatch", consumer_enabled=False) as (_app, client):
        yield DispatchFlow(env, client)


def period(days: int = 14) -> dict[str, str]:
    today = date.today()
    return {"from": today.isoformat(), "to": (today + timedelta(days=days - 1)).isoformat()}


async def test_the_board_shows_bookings_leave_certificates_conflicts_and_unstaffed_cases(flow, env):
    region = unique("east")
    soon = (date.today() + timedelta(days=9)).isoformat()
    a = await flow.engineer(region=region, certificates=[
        {"type": "hv_live_work", "number": "HV-1", "expires_on": (date.today() + timedelta(days=365)).isoformat()},
        {"type": "sf6_handling", "number": "SF-1", "expires_on": soon}])
    b = await flow.engineer(region=region, grade=3)
    case = await flow.new_case(region=region, urgency="low", difficulty="low", customer_importance="low")
    assert (await flow.confirm_conditions(case["id"])).status_code == 201
    assert (r := await flow.assign(case["id"], [a, b], days=(2, 6))).status_code == 200, r.text
    # leave recorded after the assignment: the board shows the clash the gate would have refused
    record = (await flow.c.get(f"/engineers/{b}", headers=flow.d))
    leave_start = datetime.now(UTC) + timedelta(days=4)
    body = {k: v for k, v in record.json().items()
            if k not in {"id", "version", "created_at", "created_by", "updated_at", "updated_by"}}
    body["unavailability"] = [{"start": leave_start.isoformat(), "end": (leave_start + timedelta(days=3)).isoformat(),
                               "reason": "annual leave"}]
    r = await flow.c.put(f"/engineers/{b}", headers={**flow.d, "If-Match": record.headers["etag"]}, json=body)
    assert r.status_code == 200, r.text
    waiting = await flow.new_case(region=region)
    assert (await flow.confirm_conditions(waiting["id"], arrival_days=3)).status_code == 201

    r = await flow.c.get("/board", headers=flow.d, params={**period(), "region": region})
    assert r.status_code == 200, r.text
    board = r.json()
    lines = {e["engineer_id"]: e for e in board["engineers"]}
    assert set(lines) == {a, b}
    assert len(lines[a]["days"]) == 14
    booked = [d for d in lines[a]["days"] if d["bookings"]]
    assert booked and {bk["case_id"] for d in booked for bk in d["bookings"]} == {case["id"]}
    assert [c["type"] for c in lines[a]["expiring_certificates"]] == ["sf6_handling"]
    assert next(d for d in lines[a]["days"] if d["day"] == soon)["certificates_expiring"][0]["valid_until"] == soon
    assert not any(d["conflicts"] for d in lines[a]["days"])
    clashes = [c for d in lines[b]["days"] for c in d["conflicts"]]
    assert clashes and {c["kind"] for c in clashes} == {"booking_during_leave"}
    assert any(d["leave"] and d["leave"][0]["reason"] == "annual leave" for d in lines[b]["days"])
    unstaffed = {u["case_id"]: u for u in board["unstaffed_cases"]}
    assert set(unstaffed) == {waiting["id"]}
    assert unstaffed[waiting["id"]]["assigned"] == 0 and unstaffed[waiting["id"]]["missing"] >= 1

    # keyset pages of engineers; the unstaffed cases on the first page only
    first = (await flow.c.get("/board", headers=flow.d, params={**period(), "region": region, "limit": 1})).json()
    assert len(first["engineers"]) == 1 and first["next_cursor"]
    second = (await flow.c.get("/board", headers=flow.d, params={**period(), "region": region, "limit": 1,
                                                                   "cursor": first["next_cursor"]})).json()
    assert {first["engineers"][0]["engineer_id"], second["engineers"][0]["engineer_id"]} == {a, b}
    assert second["unstaffed_cases"] == []


async def test_the_period_is_at_most_62_days(flow):
    r = await flow.c.get("/board", headers=flow.d, params=period(63))
    assert r.status_code == 422 and r.json()["field"] == "to", r.text
    r = await flow.c.get("/board", headers=flow.d, params={"from": date.today().isoformat()})
    assert r.status_code == 422 and "to" in r.text


async def test_a_regional_centre_reads_its_own_regions_board_only(flow, env):
    east, west = unique("east"), unique("west")
    own, other = await flow.engineer(region=east), await flow.engineer(region=west)
    centre = bearer(env, "regional_centre", "rc-east", region=east)
    board = (await flow.c.get("/board", headers=centre, params=period(7))).json()
    assert [e["engineer_id"] for e in board["engineers"]] == [own] and board["region"] == east
    asked = (await flow.c.get("/board", headers=centre, params={**period(7), "region": west})).json()
    assert asked["engineers"] == [] and asked["unstaffed_cases"] == []
    head = (await flow.c.get("/board", headers=flow.head, params={**period(7), "region": west})).json()
    assert [e["engineer_id"] for e in head["engineers"]] == [other]
    assert (await flow.c.get("/board", headers=bearer(env, "regional_centre", "rc-x"),
                             params=period(7))).status_code == 403
    assert (await flow.c.get("/board", headers=bearer(env, "engineer", own), params=period(7))).status_code == 403


async def test_a_polling_dispatcher_gets_304_until_the_board_changes(flow):
    """Conditional GET (decision 0091): the board's ETag is its body's; a new engineer on it changes it."""
    region = unique("north")
    await flow.engineer(region=region)
    params = {**period(7), "region": region}
    first = await flow.c.get("/board", headers=flow.d, params=params)
    assert first.status_code == 200 and first.headers["etag"].startswith('"')
    again = await flow.c.get("/board", headers={**flow.d, "If-None-Match": first.headers["etag"]}, params=params)
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    await flow.engineer(region=region)
    changed = await flow.c.get("/board", headers={**flow.d, "If-None-Match": first.headers["etag"]}, params=params)
    assert changed.status_code == 200 and len(changed.json()["engineers"]) == 2
    assert changed.headers["etag"] != first.headers["etag"]
