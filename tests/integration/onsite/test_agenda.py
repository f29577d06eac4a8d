"""An engineer's agenda over HTTP (decision 0087): the day's visit and duties with what is done, the
engineer-only-self rule and region scoping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.onsite.site_days import site_calendar
from tests.integration.conftest import bearer
from tests.integration.onsite.test_region_scoping import visit_in

pytestmark = pytest.mark.integration


def today() -> str:
    return site_calendar().day(datetime.now(UTC), "north").isoformat()


async def test_the_engineer_reads_the_days_duties_and_what_is_done(env, onsite):
    _app, client = onsite
    region = f"north-{uuid.uuid4().hex[:6]}"
    site = await visit_in(env, onsite, region)  # arrived and signed in today
    engineer = site.engineers[0]
    r = await site.post("/daily-logs", {"day": today(), "work_done": "mounted bay 1", "progress": "30 %"})
    assert r.status_code == 201, r.text
    tomorrow = (datetime.fromisoformat(today()) + timedelta(days=1)).date().isoformat()

    r = await client.get(f"/engineers/{engineer}/agenda", headers=site.as_(),
                         params={"from": today(), "to": tomorrow})
    assert r.status_code == 200, r.text
    agenda = r.json()
    assert [d["day"] for d in agenda["days"]] == [today(), tomorrow]
    day = agenda["days"][0]
    assert [v["visit_id"] for v in day["visits"]] == [site.visit_id]
    visit = day["visits"][0]
    assert visit["arrived"] is True and visit["region"] == region
    duties = {d["kind"]: d["done"] for d in visit["duties"]}
    assert duties == {"sign_in": True, "daily_log": True, "sign_out": False}
    # tomorrow (within the planned window) the same duties are due, none done yet
    later = {d["kind"]: d["done"] for d in agenda["days"][1]["visits"][0]["duties"]}
    assert later == {"sign_in": False, "daily_log": False, "sign_out": False}

    # the default period is a week from today
    r = await client.get(f"/engineers/{engineer}/agenda", headers=site.as_())
    assert r.status_code == 200 and len(r.json()["days"]) == 7 and r.json()["days"][0]["day"] == today()
    r = await client.get(f"/engineers/{engineer}/agenda", headers=site.as_(),
                         params={"from": today(), "to": "2099-01-01"})
    assert r.status_code == 422 and r.json()["field"] == "to"


async def test_an_engineer_reads_only_their_own_agenda(env, onsite):
    _app, client = onsite
    site = await visit_in(env, onsite, f"north-{uuid.uuid4().hex[:6]}")
    other = bearer(env, "engineer", f"eng-{uuid.uuid4().hex[:6]}")
    r = await client.get(f"/engineers/{site.engineers[0]}/agenda", headers=other)
    assert r.status_code == 404, r.text
    for role in ("dispatcher", "department_head", "admin"):
        r = await client.get(f"/engineers/{site.engineers[0]}/agenda", headers=bearer(env, role, f"{role}-1"))
        assert r.status_code == 200 and r.json()["days"][0]["visits"], (role, r.text)
    r = await client.get(f"/engineers/{site.engineers[0]}/agenda", headers=bearer(env, "call_centre_agent", "cc"))
    assert r.status_code == 403


async def test_a_regional_centre_sees_its_own_regions_visits_only(env, onsite):
    _app, client = onsite
    east, west = f"east-{uuid.uuid4().hex[:6]}", f"west-{uuid.uuid4().hex[:6]}"
    site = await visit_in(env, onsite, east)
    path = f"/engineers/{site.engineers[0]}/agenda"
    own = (await client.get(path, headers=bearer(env, "regional_centre", "rc-e", region=east))).json()
    assert [v["visit_id"] for v in own["days"][0]["visits"]] == [site.visit_id]
    other = (await client.get(path, headers=bearer(env, "regional_centre", "rc-w", region=west))).json()
    assert all(d["visits"] == [] for d in other["days"])
    assert (await client.get(path, headers=bearer(env, "regional_centre", "rc-none"))).status_code == 403
