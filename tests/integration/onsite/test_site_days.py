"""Days are the site's days (S10, S14, S20): every instant is pinned, so no test depends on today.

The site of these visits (region "north") has no entry in SITE_TIMEZONES: its days are Asia/Shanghai's.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.onsite.presence.jobs import missing_presence_job
from services.onsite.presence.service import flag_missing
from services.onsite.work import service as work
from services.onsite.work.models import ProcessDataCreate
from shared.api.auth import Principal
from shared.api.problems import GateRefused
from shared.db import transaction
from tests.integration.onsite.conftest import events_of

pytestmark = pytest.mark.integration

BEIJING = ZoneInfo("Asia/Shanghai")
HERE = {"latitude": 39.9, "longitude": 116.4, "accuracy_m": 10.0}
FLAGS = ("SignInMissed", "SignOutMissed", "DailyLogMissed")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of November 2026 at the site (Beijing time)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=BEIJING)


async def flags_of(app, case_id: str) -> list[tuple[str, str, str]]:
    """(event, engineer, day) of every flag raised on a case."""
    return [(kind, e["engineer_id"], e["day"]) for kind in FLAGS for e in await events_of(app, case_id, kind)]


async def test_s10_sign_in_0730_and_sign_out_1730_beijing_are_one_day_with_no_flag(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, sheets=[], arrive=False)
    (a,) = site.engineers
    await site.arrive(0, at=at(2, 7, 0))
    sign_in, sign_out = at(2, 7, 30), at(2, 17, 30)  # sign-in is 2026-11-01 23:30 in UTC
    r = await site.post("/check-ins", {"at": sign_in.isoformat(), **HERE})
    assert r.status_code == 201, r.text
    assert r.json()["day"] == "2026-11-02"
    r = await site.post("/check-outs", {"at": sign_out.isoformat(), **HERE})
    assert r.status_code == 200, r.text
    assert r.json()["day"] == "2026-11-02" and r.json()["checked_out_at"] is not None
    r = await site.post("/daily-logs", {"day": "2026-11-02", "work_done": "bay 1 mounted", "progress": "40%"})
    assert r.status_code == 201, r.text
    checked = [(e["day"], e["engineer_id"]) for e in await events_of(app, site.case_id, "EngineerCheckedIn")]
    assert checked == [("2026-11-02", a)]
    assert [e["day"] for e in await events_of(app, site.case_id, "EngineerCheckedOut")] == ["2026-11-02"]

    # The next morning at 06:00 in Beijing (still the 2nd in UTC): the site's yesterday is judged, nothing missed.
    await missing_presence_job(lambda: at(3, 6, 0))(app.state.runtime)
    assert [f for f in await flags_of(app, site.case_id) if f[2] == "2026-11-02"] == []
    presence = (await site.get("/presence")).json()["items"]
    assert [(p["day"], p["sign_out_missed"], p["log_missed"]) for p in presence] == [("2026-11-02", False, False)]
    # A second sign-in the same site day (17:45) is refused; the next site day's is not.
    assert (await site.post("/check-ins", {"at": at(2, 17, 45).isoformat(), **HERE})).status_code == 409
    assert (await site.post("/check-ins", {"at": at(3, 7, 30).isoformat(), **HERE})).status_code == 201


async def test_s10_a_sign_out_past_midnight_closes_the_open_sign_in_of_the_day_before(new_site, onsite):
    site = await new_site(1, sheets=[], arrive=False)
    await site.arrive(0, at=at(4, 18, 0))
    assert (await site.post("/check-ins", {"at": at(4, 19, 0).isoformat(), **HERE})).status_code == 201
    r = await site.post("/check-outs", {"at": at(5, 1, 30).isoformat(), **HERE})
    assert r.status_code == 200 and r.json()["day"] == "2026-11-04", r.text
    r = await site.post("/check-outs", {"at": at(5, 9, 0).isoformat(), **HERE})
    assert r.status_code == 409 and r.json()["missing_conditions"] == [
        f"S10: {site.engineers[0]} has not signed in on 2026-11-05"], r.text


async def test_s10_a_working_day_of_an_open_visit_without_sign_in_is_flagged_once(new_site, onsite):
    app, _ = onsite
    site = await new_site(3, sheets=[], arrive=False)
    a, b, c = site.engineers
    for who in range(3):
        await site.arrive(who, at=at(9, 8, 0))
    for who in range(3):  # everyone signs in, out and logs on the 9th
        assert (await site.post("/check-ins", {"at": at(9, 7, 30).isoformat(), **HERE}, who)).status_code == 201
        assert (await site.post("/check-outs", {"at": at(9, 17, 30).isoformat(), **HERE}, who)).status_code == 200
        assert (await site.post("/daily-logs", {"day": "2026-11-09", "work_done": "mounting", "progress": "10%"},
                                who)).status_code == 201
    # On the 10th: a works normally; b neither signs in nor logs; c signs in and leaves mid-way with consent.
    assert (await site.post("/check-ins", {"at": at(10, 7, 30).isoformat(), **HERE}, 0)).status_code == 201
    assert (await site.post("/check-outs", {"at": at(10, 17, 30).isoformat(), **HERE}, 0)).status_code == 200
    assert (await site.post("/daily-logs", {"day": "2026-11-10", "work_done": "tests", "progress": "30%"},
                            0)).status_code == 201
    r = await site.post("/leave-requests", {"reason": "called to another site", "site_manager": "Liu",
                                            "consent": True}, who=2)
    assert r.status_code == 201 and r.json()["may_leave"] is True, r.text

    # 07:00 on the 11th in Beijing is 23:00 on the 10th in UTC: the site's yesterday (the 10th) is judged.
    # Two replicas running the check at once raise each flag once.
    async def check() -> None:
        async with transaction(app.state.sessions) as session:
            await flag_missing(session=session, now=at(11, 7, 0))

    await asyncio.gather(check(), check())
    await missing_presence_job(lambda: at(11, 9, 0))(app.state.runtime)  # again later: nothing new
    assert sorted(await flags_of(app, site.case_id)) == [
        ("DailyLogMissed", b, "2026-11-10"), ("SignInMissed", b, "2026-11-10")]

    # The 11th and 12th pass with nobody signing in: a and b are flagged for each day; c has left.
    await missing_presence_job(lambda: at(13, 8, 0))(app.state.runtime)
    missed = sorted((e, d) for kind, e, d in await flags_of(app, site.case_id) if kind == "SignInMissed")
    assert missed == sorted([(a, "2026-11-11"), (a, "2026-11-12"), (b, "2026-11-10"), (b, "2026-11-11"),
                             (b, "2026-11-12")])
    assert c not in {e for _, e, _ in await flags_of(app, site.case_id)}


async def test_s14_a_task_continuing_on_a_later_day_needs_that_days_safety_checklist(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, arrive=False)  # the live-HV primary-test check sheet
    (a,) = site.engineers
    engineer = Principal(subject=a, roles=frozenset({"engineer"}))
    await site.arrive(0, at=at(16, 7, 0))
    await site.brief()
    r = await site.post("/permits", {"number": "WP-16", "issued_by": "Site manager Liu", "scope": ["all"],
                                     "valid_from": at(16, 6, 0).isoformat(), "valid_to": at(20, 20, 0).isoformat()})
    assert r.status_code == 201, r.text
    task = (await site.tasks())["cs-hv"]
    valid = {"tools_test_valid_until": "2027-06-30", "gloves_test_valid_until": "2027-06-30"}
    assert (await site.safe(task["id"], day="2026-11-16", **valid)).status_code == 201

    # Started at 07:30 in Beijing (23:30 UTC the day before): the checklist of the site's day counts.
    async with transaction(app.state.sessions) as session:
        await work.start_task(session=session, visit_id=site.visit_id, task_id=task["id"], principal=engineer,
                              if_match=None, now=at(16, 7, 30))

    async def record(now: datetime, item: str = "y1") -> None:
        async with transaction(app.state.sessions) as session:
            await work.record_process_data(session=session, visit_id=site.visit_id, task_id=task["id"],
                                           item_id=item, body=ProcessDataCreate(value=True), principal=engineer,
                                           now=now)

    async def sign_off(now: datetime, item: str = "y1") -> None:
        async with transaction(app.state.sessions) as session:
            await work.sign_off_process_data(session=session, visit_id=site.visit_id, task_id=task["id"],
                                             item_id=item, principal=engineer, now=now)

    await record(at(16, 21, 0))  # the start day: its checklist holds
    with pytest.raises(GateRefused) as refused:  # the next site day (00:30 UTC is 08:30 in Beijing)
        await record(at(17, 8, 30))
    assert refused.value.extra["gate"] == "process data"
    assert refused.value.extra["missing_conditions"] == ["S14: no safety checklist for 2026-11-17"]
    with pytest.raises(GateRefused) as refused:
        await sign_off(at(17, 8, 30))
    assert refused.value.extra["missing_conditions"] == ["S14: no safety checklist for 2026-11-17"]

    r = await site.safe(task["id"], day="2026-11-17", barriers=False, **valid)  # incomplete: still refused
    assert r.status_code == 201, r.text
    with pytest.raises(GateRefused) as refused:
        await record(at(17, 9, 0))
    assert refused.value.extra["missing_conditions"] == ["S14: barriers not confirmed (primary-equipment test)"]

    assert (await site.safe(task["id"], day="2026-11-17", **valid)).status_code == 201
    await record(at(17, 9, 0))
    await sign_off(at(17, 9, 5))
    values = (await site.get("/process-data")).json()["items"]
    assert [(v["item_id"], v["signed_off_by"]) for v in values] == [("y1", a)]
