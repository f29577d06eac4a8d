"""Onsite over HTTP: S26-S29 closing, the S30 completion gate, the S33 departure gate, quality issues on site."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.onsite import handlers
from shared.db import transaction
from shared.events import EventEnvelope
from shared.events.quality import IssueEscalated, IssueLogged, IssueReopened, IssueResolvedOnSite
from tests.integration.conftest import bearer
from tests.integration.onsite.conftest import NOW, events_of

pytestmark = pytest.mark.integration

RECEIPT = {"work_done": "GIS bays 1-2 installed and commissioned", "operating_advice": "Check SF6 density monthly",
           "unfinished_items": [{"description": "Paint touch-up", "planned_date": "2026-12-15"}],
           "aspect_ratings": [{"aspect": "quality", "score": 5}, {"aspect": "timeliness", "score": 4}],
           "receipt_signed_by": "Wang Fang", "receipt_rating": 5}
def leave() -> dict[str, str]:
    """S33: leaving now (after the arrival and the signed receipt), everyone informed."""
    now = datetime.now(UTC).isoformat()
    return {"departed_at": now, "regional_centre_informed_at": now, "department_head_informed_at": now,
            "site_manager_agreed_by": "Site manager Liu"}


async def quality_event(app, site, handler, payload) -> None:
    envelope = EventEnvelope.wrap(payload, source="/fieldservice/quality", subject=site.case_id, actor="qe-1")
    async with transaction(app.state.sessions) as session:
        await handler(session, envelope, payload)


def logged(site, issue_id: uuid.UUID) -> IssueLogged:
    return IssueLogged(issue_id=issue_id, case_id=uuid.UUID(site.case_id), product="GIS", failure_mode="gas-leak",
                       severity="major", description="SF6 low", logged_by=site.engineers[0])


async def test_completion_refused_until_s26_to_s29_done_and_issues_escalated_then_signed_once(new_site, onsite):
    app, _ = onsite
    site = await new_site(2, sheets=[])
    a, b = site.engineers
    issue_id = uuid.uuid4()
    await quality_event(app, site, handlers.show_issue, logged(site, issue_id))
    await quality_event(app, site, handlers.show_issue, logged(site, issue_id))  # the same fact again: one issue

    r = await site.post("/completion", RECEIPT)
    assert r.status_code == 409, r.text
    assert r.json()["missing_conditions"] == [
        f"S26: no self-check by {a}", f"S26: {a}'s items not cross-checked by another engineer of the team",
        f"S26: no self-check by {b}", f"S26: {b}'s items not cross-checked by another engineer of the team",
        "S27: clean-up of the site and equipment not confirmed",
        "S28: hand-over of accessories and spare parts not recorded",
        "S29: no drawing revisions recorded and 'no deviations' not declared",
        f"S25: quality issue {issue_id} is still open on site and not escalated",
    ]

    # S26: a cross-check needs the self-check first and another engineer of the team.
    r = await site.post("/checks", {"engineer_id": a}, who=1)
    assert r.status_code == 409 and "has not self-checked" in r.json()["missing_conditions"][0]
    assert (await site.post("/checks", {}, who=0)).status_code == 201
    assert (await site.post("/checks", {}, who=1)).status_code == 201
    assert (await site.post("/checks", {}, who=1)).status_code == 409
    assert (await site.post("/checks", {"engineer_id": a}, who=1)).status_code == 201
    assert (await site.post("/checks", {"engineer_id": b}, who=0)).status_code == 201
    # S27-S29
    r = await site.post("/cleanup", {"site_clean": False, "equipment_clean": True, "customer_confirmed_by": "Liu"})
    assert r.status_code == 409 and r.json()["type"].endswith("/gate-refused") and r.json()["gate"] == "clean-up"
    assert r.json()["missing_conditions"] == ["S27: the work site is not clean"]
    assert (await site.post("/cleanup", {"site_clean": True, "equipment_clean": True,
                                         "customer_confirmed_by": "Liu"})).status_code == 204
    signature = {"kind": "typed", "typed_name": "Liu", "signed_at": NOW.isoformat()}
    r = await site.post("/handovers", {"items": [{"name": "SF6 gauge", "kind": "accessory", "quantity": 2}],
                                       "received_by": "Liu", "signature": signature})
    assert r.status_code == 201, r.text
    r = await site.post("/repairs", {"receipt_number": f"RR-{uuid.uuid4().hex[:6]}", "equipment": "density relay",
                                     "fault": "reads low"})
    assert r.status_code == 201
    assert (await events_of(app, site.case_id, "RepairRequested"))[0]["customer_name"] == "North Grid Co."
    r = await site.post("/drawing-revisions", {"drawing_number": "D-7", "deviation": "cable route moved",
                                               "original_kept_at": "site cabinet 3"})
    revision = r.json()
    assert (await site.post("/no-drawing-deviations")).status_code == 409
    missing = (await site.get("/completion-readiness")).json()["missing_conditions"]
    assert missing == ["S29: drawing D-7 not yet sent to the company and mailed to the customer",
                       f"S25: quality issue {issue_id} is still open on site and not escalated"]
    r = await site.post("/drawing-revisions/dispatch", {
        "revision_ids": [revision["id"]], "sent_to_company_at": NOW.isoformat(),
        "mailed_to_customer_at": NOW.isoformat(), "tracking_number": "SF123"})
    assert r.status_code == 200 and r.json()[0]["tracking_number"] == "SF123"

    # The issue escalated to the closed loop no longer blocks; reopened-after-fix would.
    await quality_event(app, site, handlers.issue_changed, IssueEscalated(
        issue_id=issue_id, case_id=uuid.UUID(site.case_id), responsible_unit="GIS works", owner="q-owner",
        due_at=NOW + timedelta(days=5)))
    assert (await site.get("/completion-readiness")).json()["missing_conditions"] == []

    # Departure before completion is refused with every missing condition.
    r = await site.post("/departures", {"departed_at": NOW.isoformat()})
    assert r.json()["missing_conditions"] == [
        "S30: the service is not completed (receipt not signed)",
        "S33: the regional service centre has not been informed",
        "S33: the department head has not been informed",
        "S33: the customer site manager's agreement is not recorded",
    ]

    # Sign-off only by the team (others do not see the visit; a dispatcher may not sign), and once.
    assert (await site.post("/completion", RECEIPT, who="eng-stranger")).status_code == 404
    r = await site.client.post(f"/visits/{site.visit_id}/completion", json=RECEIPT,
                               headers=site.as_("disp-1", "dispatcher"))
    assert r.status_code == 403
    stale = await site.post("/completion", RECEIPT, who=1, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    r = await site.post("/completion", RECEIPT, who=1)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    r = await site.post("/completion", RECEIPT)
    assert r.status_code == 409 and r.json()["missing_conditions"] == ["S30: the service receipt is already signed"]
    completed = await events_of(app, site.case_id, "ServiceCompleted")
    assert len(completed) == 1 and completed[0]["unfinished_items"] == 1
    assert [a["score"] for a in completed[0]["aspect_ratings"]] == [5, 4]

    pdf = await site.get("/report.pdf", role="dispatcher", who="disp-1")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"/FontFile2" in pdf.content  # the font is embedded

    # S33: each engineer leaves; the last departure closes the visit.
    assert (await site.post("/departures", leave(), who=0)).status_code == 201
    assert (await site.post("/departures", leave(), who=0)).json()["missing_conditions"] == [
        "S33: this engineer has already departed"]
    assert (await site.get()).json()["closed_at"] is None
    assert (await site.post("/departures", leave(), who=1)).status_code == 201
    assert (await site.get()).json()["closed_at"] is not None
    departed = await events_of(app, site.case_id, "EngineerDeparted")
    assert [d["visit_closed"] for d in departed] == [False, True]


async def test_issue_states_follow_quality_events(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, sheets=[])
    issue_id = uuid.uuid4()
    case_id = uuid.UUID(site.case_id)
    await quality_event(app, site, handlers.show_issue, logged(site, issue_id))
    await quality_event(app, site, handlers.issue_changed, IssueResolvedOnSite(
        issue_id=issue_id, case_id=case_id, resolution="relay replaced", resolved_by="e", customer_confirmed_by="c"))
    issue = (await site.get()).json()["quality_issues"][0]
    assert (issue["status"], issue["escalated"]) == ("resolved_on_site", False)
    await quality_event(app, site, handlers.issue_changed, IssueReopened(
        issue_id=issue_id, case_id=case_id, reason="leaks again", by="qe"))
    missing = (await site.get("/completion-readiness")).json()["missing_conditions"]
    assert f"S25: quality issue {issue_id} is still open on site and not escalated" in missing


async def test_schedule_at_risk_is_raised_once_per_risk(new_site, onsite):
    app, _ = onsite
    deadline = NOW + timedelta(days=2)
    site = await new_site(1, sheets=[], deadline=deadline)
    late = (deadline + timedelta(days=1)).isoformat()
    r = await site.post("/tasks", {"title": "Extra cabling", "permit_scope": "cabling", "planned_end": late})
    task = r.json()
    assert r.status_code == 201
    r = await site.post(f"/tasks/{task['id']}/progress", {"progress_percent": 20, "planned_end": late})
    assert r.status_code == 200
    risks = await events_of(app, site.case_id, "ScheduleAtRisk")
    assert len(risks) == 1 and "Extra cabling" in risks[0]["reason"]
    later = (deadline + timedelta(days=3)).isoformat()
    await site.post(f"/tasks/{task['id']}/progress", {"progress_percent": 30, "planned_end": later,
                                                      "reason": "cable delivery late"})
    risks = await events_of(app, site.case_id, "ScheduleAtRisk")
    assert len(risks) == 2 and risks[1]["reason"] == "cable delivery late"


async def test_sign_in_out_with_location_missing_sign_out_flagged_next_morning(new_site, onsite):
    from services.onsite.presence.jobs import missing_presence_job
    from services.onsite.presence.service import flag_missing

    app, _ = onsite
    site = await new_site(2, sheets=[], arrive=False)
    a, b = site.engineers
    day = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)  # 08:30 at the site (Asia/Shanghai): its days are the site's
    for who in (0, 1):
        await site.arrive(who, at=day - timedelta(hours=1))
    r = await site.post("/check-ins", {"at": day.isoformat(), "latitude": 95.0, "longitude": 116.4})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.latitude"
    here = {"latitude": 39.9, "longitude": 116.4, "accuracy_m": 12.5}
    assert (await site.post("/check-ins", {"at": day.isoformat(), **here}, who=0)).status_code == 201
    assert (await site.post("/check-ins", {"at": day.isoformat(), **here}, who=0)).status_code == 409
    assert (await site.post("/check-ins", {"at": day.isoformat(), **here}, who=1)).status_code == 201
    out = {"at": (day + timedelta(hours=9)).isoformat(), **here, "latitude": 39.95}
    assert (await site.post("/check-outs", out, who=1)).status_code == 200
    assert (await site.post("/daily-logs", {"day": "2026-11-20", "work_done": "bay 1 mounted",
                                            "progress": "40%"}, who=1)).status_code == 201

    async with transaction(app.state.sessions) as session:
        await flag_missing(session=session, now=day + timedelta(hours=12))  # 20:30, same site day: not yet
    assert await events_of(app, site.case_id, "SignOutMissed") == []
    # The periodic job of the service, with its clock injected: the next morning.
    await missing_presence_job(lambda: day + timedelta(days=1, hours=1))(app.state.runtime)
    async with transaction(app.state.sessions) as session:
        await flag_missing(session=session, now=day + timedelta(days=1, hours=2))  # flagged once only
    assert [e["engineer_id"] for e in await events_of(app, site.case_id, "SignOutMissed")] == [a]
    assert [e["engineer_id"] for e in await events_of(app, site.case_id, "DailyLogMissed")] == [a]
    presence = {p["engineer_id"]: p for p in (await site.get("/presence")).json()["items"]}
    assert presence[a]["sign_out_missed"] and not presence[b]["sign_out_missed"]

    r = await site.client.get("/whereabouts", headers=bearer(site.env, "regional_centre", "rc-1", region="north"))
    where = {w["engineer_id"]: w for w in r.json()}
    assert where[a]["on_site"] and where[a]["latitude"] == 39.9
    assert not where[b]["on_site"] and where[b]["latitude"] == 39.95
    assert (await site.client.get("/whereabouts", headers=site.as_(0))).status_code == 403


async def test_staff_added_by_dispatch_join_the_team_once(new_site, onsite):
    from shared.events.dispatch import StaffAdded, TeamMember

    app, _ = onsite
    site = await new_site(1, sheets=[])
    newcomer = f"eng-{uuid.uuid4().hex[:6]}"
    payload = StaffAdded(case_id=uuid.UUID(site.case_id), staffing_request_id=uuid.uuid4(),
                         engineers=[TeamMember(engineer_id=newcomer, name="New", grade=2)])
    for _ in range(2):  # the same fact twice
        envelope = EventEnvelope.wrap(payload, source="/fieldservice/dispatch", subject=site.case_id, actor="d")
        async with transaction(app.state.sessions) as session:
            await handlers.staff_added(session, envelope, payload)
    team = [m["engineer_id"] for m in (await site.get(who=newcomer)).json()["team"]]
    assert team == [site.engineers[0], newcomer]
    await site.arrive_as(newcomer)


async def test_an_engineer_who_left_mid_way_does_not_keep_the_visit_open(new_site):
    site = await new_site(2, sheets=[])
    r = await site.post("/leave-requests", {"reason": "called to another site", "site_manager": "Liu",
                                            "consent": True}, who=1)
    assert r.json()["may_leave"] is True
    assert (await site.post("/checks", {}, who=0)).status_code == 201
    assert (await site.post("/checks", {}, who=1)).status_code == 201
    assert (await site.post("/checks", {"engineer_id": site.engineers[0]}, who=1)).status_code == 201
    assert (await site.post("/checks", {"engineer_id": site.engineers[1]}, who=0)).status_code == 201
    await site.post("/cleanup", {"site_clean": True, "equipment_clean": True, "customer_confirmed_by": "Liu"})
    await site.post("/handovers", {"items": [], "received_by": "Liu", "signature": {
        "kind": "typed", "typed_name": "Liu", "signed_at": NOW.isoformat()}})
    await site.post("/no-drawing-deviations")
    assert (await site.post("/completion", RECEIPT)).status_code == 200
    assert (await site.post("/departures", leave(), who=0)).status_code == 201
    assert (await site.get()).json()["closed_at"] is not None
