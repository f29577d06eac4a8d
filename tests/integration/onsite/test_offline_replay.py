"""A field app's offline queue of one site day, replayed as a phone on and off signal would (issue 16).

The queue is recorded once: every write of the day with its `Idempotency-Key`. It reaches the
server first in the wrong order (what a step waits for is refused and reserves nothing), then in
order, then shuffled: each act is applied exactly once, every later copy answers the first
response marked `Idempotent-Replayed`, and the outbox holds one event per act.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from services.onsite.site_days import site_calendar
from shared.api import idempotency
from shared.db import transaction
from shared.idempotency import RESERVED, IdempotencyRecord
from tests.integration.onsite.conftest import NOW, Site, events_of

pytestmark = pytest.mark.integration

HERE = {"latitude": 39.9, "longitude": 116.4, "accuracy_m": 10.0}
DAY_EVENTS = ("EngineerArrived", "EngineerCheckedIn", "TechnicalBriefingHeld", "PermitRecorded",
              "SafetyCheckCompleted", "TaskStarted", "ProcessDataRecorded", "DailyLogSubmitted", "EngineerCheckedOut")


def recorded_day(site: Site, task_id: str) -> list[tuple[str, str, Any, str]]:
    """(method, path, body, Idempotency-Key) of every write of the day, in the order the engineer did them."""
    at = NOW - timedelta(minutes=30)
    today = site_calendar().day(NOW, "north").isoformat()
    calls = [{"party": p, "called_at": (at + timedelta(minutes=i)).isoformat(), "outcome": "reached"}
             for i, p in enumerate(["account_manager", "customer_contact", "site_interface"])]
    acts: list[tuple[str, str, Any]] = [
        ("POST", "/arrivals", {"arrived_at": (at + timedelta(minutes=5)).isoformat(), "calls": calls}),
        ("POST", "/check-ins", {"at": (at + timedelta(minutes=6)).isoformat(), **HERE}),
        ("POST", "/briefings", {"held_at": (at + timedelta(minutes=7)).isoformat(), "content": "GIS bay 1",
                                "scope": "bay 1", "risk_points": ["live busbar"], "goals": ["energise"],
                                "missing_parts": [], "disputed_points": [], "customer_attendees": ["Liu"]}),
        ("POST", "/permits", {"number": "WP-1", "issued_by": "Site manager Liu", "scope": ["cs-hv"],
                              "valid_from": (at - timedelta(hours=1)).isoformat(),
                              "valid_to": (at + timedelta(days=2)).isoformat()}),
        ("POST", f"/tasks/{task_id}/safety-checklists", {
            "day": today, "ppe": True, "helmet": True, "insulated_gloves": True, "insulated_tools": True,
            "tools_test_valid_until": (NOW + timedelta(days=90)).date().isoformat(),
            "gloves_test_valid_until": (NOW + timedelta(days=60)).date().isoformat(),
            "barriers": True, "safety_watcher": "Li Ming"}),
        ("POST", f"/tasks/{task_id}/start", None),
        # a PUT re-sent would add a second reading: the key covers every write, not only POSTs
        ("PUT", f"/tasks/{task_id}/items/y1", {"value": True}),
        ("POST", f"/tasks/{task_id}/items/y1/sign-off", None),
        ("POST", "/daily-logs", {"day": today, "work_done": "bay 1 interlocks tested", "progress": "20 %"}),
        ("POST", "/check-outs", {"at": (NOW - timedelta(minutes=1)).isoformat(), **HERE}),
    ]
    return [(method, path, body, f"{site.visit_id}-act-{i}") for i, (method, path, body) in enumerate(acts)]


async def send(site: Site, act: tuple[str, str, Any, str]):
    method, path, body, key = act
    return await site.client.request(method, f"/visits/{site.visit_id}{path}", json=body,
                                     headers={**site.as_(0), "Idempotency-Key": key})


async def day_events(app, site: Site) -> Counter[str]:
    return Counter({kind: len(await events_of(app, site.case_id, kind)) for kind in DAY_EVENTS})


async def test_a_recorded_site_day_replayed_out_of_order_and_twice_is_applied_once(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, arrive=False)
    task_id = (await site.tasks())["cs-hv"]["id"]
    queue = recorded_day(site, task_id)

    # 1. Back-to-front: what waits for an earlier act is refused (and reserves nothing), the rest applies.
    first: dict[str, Any] = {}
    for act in reversed(queue):
        r = await send(site, act)
        assert r.status_code < 500, r.text
        if r.status_code < 300:
            first[act[3]] = (r.status_code, r.json())
    assert 0 < len(first) < len(queue)

    # 2. In order: the refused acts apply now; the applied ones answer their first response again.
    for act in queue:
        r = await send(site, act)
        assert r.status_code < 300, (act[1], r.text)
        if act[3] in first:
            assert r.headers.get("idempotent-replayed") == "true"
            assert (r.status_code, r.json()) == first[act[3]]
        else:
            assert "idempotent-replayed" not in r.headers
            first[act[3]] = (r.status_code, r.json())
    applied = await day_events(app, site)
    assert applied == Counter(dict.fromkeys(DAY_EVENTS, 1)), applied

    # 3. The whole queue once more, shuffled: nothing new, every answer the first one.
    for act in random.Random(7).sample(queue, len(queue)):
        r = await send(site, act)
        assert r.headers.get("idempotent-replayed") == "true", (act[1], r.text)
        assert (r.status_code, r.json()) == first[act[3]]
    assert await day_events(app, site) == applied
    assert (await site.tasks())["cs-hv"]["status"] == "started"


async def test_a_key_reused_for_another_write_is_refused_naming_it(new_site):
    site = await new_site(1)
    key = f"{site.visit_id}-log"
    body = {"day": site_calendar().day(NOW, "north").isoformat(), "work_done": "cabling", "progress": "10 %"}
    assert (await send(site, ("POST", "/daily-logs", body, key))).status_code == 201
    other = await send(site, ("POST", "/daily-logs", {**body, "progress": "15 %"}, key))
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"
    short = await send(site, ("POST", "/daily-logs", body, "short"))
    assert short.status_code == 422 and short.json()["field"] == "Idempotency-Key"


async def test_a_write_applied_whose_response_was_lost_is_never_applied_again(new_site, onsite, monkeypatch):
    """The process died between the commit and storing the response: the key is reserved without one."""
    app, _ = onsite
    monkeypatch.setattr(idempotency, "_WAIT_SECONDS", 0.2)
    site = await new_site(1)
    act = ("POST", "/daily-logs", {"day": site_calendar().day(NOW, "north").isoformat(), "work_done": "cabling",
                                   "progress": "10 %"}, f"{site.visit_id}-lost")
    assert (await send(site, act)).status_code == 201
    async with transaction(app.state.sessions) as session:
        await session.execute(update(IdempotencyRecord).where(col(IdempotencyRecord.key) == act[3])
                              .values(status_code=RESERVED, response={}))
    again = await send(site, act)
    assert again.status_code == 409 and again.json()["field"] == "Idempotency-Key", again.text
    assert len(await events_of(app, site.case_id, "DailyLogSubmitted")) == 1


async def test_keys_expire_after_their_time_to_live(new_site, onsite):
    app, _ = onsite
    site = await new_site(1)
    act = ("POST", "/daily-logs", {"day": site_calendar().day(NOW, "north").isoformat(), "work_done": "cabling",
                                   "progress": "10 %"}, f"{site.visit_id}-old")
    assert (await send(site, act)).status_code == 201
    ttl = app.state.settings.idempotency_key_ttl_hours
    async with transaction(app.state.sessions) as session:
        await session.execute(update(IdempotencyRecord).where(col(IdempotencyRecord.key) == act[3])
                              .values(created_at=NOW - timedelta(hours=ttl, minutes=1)))
    assert await idempotency.purge_expired_keys(app.state.sessions, ttl) >= 1
    async with app.state.sessions() as session:
        assert (await session.execute(select(IdempotencyRecord).where(
            col(IdempotencyRecord.key) == act[3]))).first() is None
