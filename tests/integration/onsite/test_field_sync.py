"""Offline sync for field clients over HTTP (issue 16, decision 0091): the client's time of the act with its
plausibility rules, the changes feed of a visit and of an engineer (commit order, cursors), and conditional
GETs (ETag / If-None-Match -> 304) on the visit, the agenda and the feed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlmodel import col

from services.onsite import handlers
from services.onsite.site_days import site_calendar
from services.onsite.sync.log import COMMIT_ORDER_LOCK, note_change
from services.onsite.sync.models import VisitChange
from shared.db import table_of, transaction
from tests.integration.conftest import bearer
from tests.integration.onsite.conftest import NOW
from tests.integration.onsite.test_closing_gates import logged, quality_event

pytestmark = pytest.mark.integration

HERE = {"latitude": 31.2, "longitude": 121.5}


def problem_field(r) -> str:
    assert r.status_code == 422, r.text
    return r.json()["field"]


async def test_writes_carry_the_acts_time_beside_the_receipt_and_implausible_times_are_refused(new_site):
    site = await new_site(1, arrive=False)
    await site.arrive(0, at=NOW - timedelta(days=2))  # arrived two days ago (calls first, arrival 5 min later)
    arrived = NOW - timedelta(days=2) + timedelta(minutes=5)

    # S10: yesterday's sign-in, replayed today from the offline queue, is yesterday's site day
    yesterday = NOW - timedelta(days=1)
    r = await site.post("/check-ins", {"at": yesterday.isoformat(), **HERE})
    assert r.status_code == 201, r.text
    presence = r.json()
    assert presence["day"] == site_calendar().day(yesterday, "north").isoformat()
    assert datetime.fromisoformat(presence["in_recorded_at"]) >= NOW  # received now
    assert (await site.post("/check-ins", {"at": datetime.now(UTC).isoformat(), **HERE})).status_code == 201

    # S20: the log keeps the act's time and the receipt; implausible times are 422 naming the field
    log = {"day": presence["day"], "work_done": "bay 1 mounted", "progress": "30 %"}
    future = datetime.now(UTC) + timedelta(hours=1)
    assert problem_field(await site.post("/daily-logs", {**log, "occurred_at": future.isoformat()})) \
        == "body.occurred_at"
    r = await site.post("/daily-logs", {**log, "occurred_at": (arrived - timedelta(minutes=1)).isoformat()})
    assert problem_field(r) == "body.occurred_at" and "before the engineer's arrival" in r.json()["detail"]
    r = await site.post("/daily-logs", {**log, "occurred_at": "2026-11-28T20:00:00"})  # no time zone
    assert r.status_code == 422
    written = yesterday + timedelta(hours=9)
    r = await site.post("/daily-logs", {**log, "occurred_at": written.isoformat()})
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["occurred_at"]) == written
    assert datetime.fromisoformat(r.json()["submitted_at"]) >= NOW

    # S13: values and completion at the act's time, never before the task's start
    task = (await site.tasks())["cs-mount"]
    await site.brief()
    await site.permit(["all"])
    assert (await site.safe(task["id"])).status_code == 201
    started = (await site.post(f"/tasks/{task['id']}/start")).json()
    assert started["status"] == "started"
    before_start = datetime.fromisoformat(started["started_at"]) - timedelta(minutes=1)
    r = await site.put(f"/tasks/{task['id']}/items/p1", {"value": "nameplate", "occurred_at": before_start.isoformat()})
    assert problem_field(r) == "body.occurred_at" and "before the task's start" in r.json()["detail"]
    measured = datetime.now(UTC)
    r = await site.put(f"/tasks/{task['id']}/items/p1", {"value": "nameplate", "occurred_at": measured.isoformat()})
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["occurred_at"]) == measured
    assert datetime.fromisoformat(r.json()["recorded_at"]) >= measured
    assert (await site.upload("process_data", r.json()["id"])).status_code == 201
    assert (await site.post(f"/tasks/{task['id']}/items/p1/sign-off")).status_code == 200
    r = await site.post(f"/tasks/{task['id']}/completion", {"occurred_at": before_start.isoformat()})
    assert problem_field(r) == "body.occurred_at"
    done = datetime.now(UTC)
    r = await site.post(f"/tasks/{task['id']}/completion", {"occurred_at": done.isoformat()})
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["done_at"]) == done and r.json()["done_recorded_at"] is not None


async def test_the_changes_feed_pages_in_commit_order_and_a_client_resumes_from_its_cursor(env, onsite, new_site):
    app, client = onsite
    site = await new_site(2)
    a, b = site.engineers
    # what b did while a was offline
    r = await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_(0))
    assert r.status_code == 200, r.text
    first = r.json()
    assert [c["what"] for c in first["items"]] == ["EngineerArrived", "EngineerArrived"]
    assert first["next_cursor"] is None and first["items"][1]["actor"] == b
    assert first["items"][0] == {**first["items"][0], "entity_kind": "arrival", "entity_id": a,
                                 "link": f"/visits/{site.visit_id}"}
    stored = first["cursor"]
    assert (await site.post("/check-ins", {"at": datetime.now(UTC).isoformat(), **HERE}, who=1)).status_code == 201
    await quality_event(app, site, handlers.show_issue, logged(site, uuid.uuid4()))  # a change quality made

    r = await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_(0), params={"since": stored, "limit": 1})
    page = r.json()
    assert [c["what"] for c in page["items"]] == ["EngineerCheckedIn"] and page["next_cursor"] == page["cursor"]
    assert page["items"][0]["entity_kind"] == "presence" and page["items"][0]["link"].endswith("/presence")
    r = await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_(0),
                         params={"since": page["next_cursor"], "limit": 1})
    last = r.json()
    assert [c["what"] for c in last["items"]] == ["IssueLogged"] and last["items"][0]["actor"] == "qe-1"
    assert last["next_cursor"] is None  # never a cursor to an empty page
    r = await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_(0), params={"since": last["cursor"]})
    assert r.json() == {"items": [], "next_cursor": None, "cursor": last["cursor"]}  # up to date: same cursor

    # the engineer's feed spans their visits; another engineer's feed does not exist for them
    other = await new_site(1)
    r = await client.get(f"/engineers/{a}/changes", headers=site.as_(0))
    assert {c["visit_id"] for c in r.json()["items"]} == {site.visit_id}
    assert len(r.json()["items"]) == 4
    assert (await client.get(f"/engineers/{other.engineers[0]}/changes", headers=site.as_(0))).status_code == 404
    assert (await client.get(f"/visits/{other.visit_id}/changes", headers=site.as_(0))).status_code == 404
    r = await client.get(f"/engineers/{a}/changes", headers=bearer(env, "dispatcher", "disp-1"))
    assert r.status_code == 200 and len(r.json()["items"]) == 4
    r = await client.get(f"/engineers/{a}/changes", headers=bearer(env, "regional_centre", "rc", region="south"))
    assert r.status_code == 200 and r.json()["items"] == []
    assert problem_field(await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_(0),
                                          params={"since": "not-a-cursor"})) == "since"


async def test_a_change_that_commits_late_is_not_skipped(onsite, new_site):
    """A reader never sees a change numbered after one still committing (the commit-order lock)."""
    app, client = onsite
    site = await new_site(1)
    cursor = (await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_())).json()["cursor"]
    visit_id = uuid.UUID(site.visit_id)

    async with app.state.sessions() as slow:  # a transaction in its commit: numbered, not yet committed
        await slow.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": COMMIT_ORDER_LOCK})
        await slow.execute(table_of(VisitChange).insert().values(
            visit_id=visit_id, what="SlowChange", entity_kind="visit", entity_id=site.visit_id, actor="slow",
            data={}, recorded_at=datetime.now(UTC)))

        async def fast() -> None:
            async with transaction(app.state.sessions) as session:
                note_change(session, visit_id=visit_id, what="FastChange", data={}, actor="fast")

        later = asyncio.create_task(fast())
        async with app.state.sessions() as probe:  # wait until the later commit queues behind the lock
            for _ in range(500):
                waiting = (await probe.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))).scalar_one()
                if waiting or later.done():
                    break
                await asyncio.sleep(0.01)
        assert not later.done()
        r = await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_(), params={"since": cursor})
        assert r.json()["items"] == []  # neither: the first is not committed, the second waits for it
        await slow.commit()
    await later
    r = await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_(), params={"since": cursor})
    assert [c["what"] for c in r.json()["items"]] == ["SlowChange", "FastChange"]
    async with app.state.sessions() as session:
        seqs = list((await session.execute(select(col(VisitChange.seq)).where(
            col(VisitChange.visit_id) == visit_id, col(VisitChange.what).in_(["SlowChange", "FastChange"]))
            .order_by(col(VisitChange.seq)))).scalars())
    assert len(seqs) == 2 and seqs[0] < seqs[1]


async def test_polled_resources_answer_304_while_unchanged(env, onsite, new_site):
    app, client = onsite
    site = await new_site(1)
    engineer = site.engineers[0]
    for path in (f"/visits/{site.visit_id}", f"/visits/{site.visit_id}/changes", f"/engineers/{engineer}/agenda",
                 f"/engineers/{engineer}/changes"):
        r = await client.get(path, headers=site.as_())
        assert r.status_code == 200 and r.headers["etag"], path
        tag = r.headers["etag"]
        for held in (tag, f'"other", {tag}', "*", tag.removeprefix("W/")):
            again = await client.get(path, headers={**site.as_(), "If-None-Match": held})
            assert again.status_code == 304 and again.headers["etag"] == tag and again.content == b"", (path, held)
        changed = await client.get(path, headers={**site.as_(), "If-None-Match": '"stale"'})
        assert changed.status_code == 200 and changed.json() == r.json()

    # a change quality made to the visit is a new version: the visit and its feed answer 200 again
    visit = await client.get(f"/visits/{site.visit_id}", headers=site.as_())
    feed = await client.get(f"/visits/{site.visit_id}/changes", headers=site.as_())
    await quality_event(app, site, handlers.show_issue, logged(site, uuid.uuid4()))
    for before in (visit, feed):
        r = await client.get(str(before.url), headers={**site.as_(), "If-None-Match": before.headers["etag"]})
        assert r.status_code == 200 and r.headers["etag"] != before.headers["etag"]
    r = await client.get(f"/visits/{site.visit_id}", headers=site.as_())
    assert r.headers["etag"] == f'W/"{r.json()["version"]}"' and len(r.json()["quality_issues"]) == 1
