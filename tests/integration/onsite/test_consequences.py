"""Consequences of the standard on site (issue 13, items 5 and 6): one refusal shape, required text that is
never blank, S9 attendees, S16 overdue reports, S18 change documents, S21 leave refused, S29 trace, S31 evaluation."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.onsite.site_days import site_calendar
from services.onsite.site_records.service import flag_overdue_reports, flag_refused_leave
from services.onsite.visits.models import SiteVisit
from shared.clock import utcnow
from shared.db import transaction
from tests.integration.conftest import events_of, refused_gate
from tests.integration.onsite.conftest import NOW

pytestmark = pytest.mark.integration

HERE = {"latitude": 39.9, "longitude": 116.4}


async def test_refusals_of_the_standard_share_the_gate_refused_shape(new_site):
    site = await new_site(1, sheets=[], arrive=False)
    assert refused_gate(await site.post("/communications", {"kind": "other", "text": "x", "counterpart": "y"}),
                "work on site") == ["S8: no engineer has arrived on site yet"]
    await site.arrive()
    at = utcnow().isoformat()
    assert (await site.post("/check-ins", {"at": at, **HERE})).status_code == 201
    assert refused_gate(await site.post("/check-ins", {"at": at, **HERE}), "sign-in")[0].startswith("S10:")
    r = await site.post("/cleanup", {"site_clean": True, "equipment_clean": False, "customer_confirmed_by": "Liu"})
    assert refused_gate(r, "clean-up") == ["S27: the equipment is not clean"]
    r = await site.post("/customer-reports", {"summary": "day 1", "escalate_to": "regional_centre"})
    assert refused_gate(r, "customer report")[0].startswith("S16:")
    r = await site.post("/process-records", {"kind": "meeting_minutes", "title": "m", "description": "d",
                                             "participants": ["one"]})
    assert refused_gate(r, "process record") == [
        "S18: minutes of a multi-department meeting list at least two participants"]


async def test_required_text_that_is_only_blanks_is_refused_naming_the_field(new_site):
    site = await new_site(1, sheets=[])
    r = await site.post("/communications", {"kind": "other", "text": "   ", "counterpart": "site manager"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.text"
    r = await site.post("/leave-requests", {"reason": " \t ", "site_manager": "Liu", "consent": True})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason"
    assert (await site.post("/communications", {"kind": "other", "text": " ok ",
                                                "counterpart": "site manager"})).status_code == 201


async def test_s9_the_customer_attendees_are_recorded_in_the_briefing(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, sheets=[])
    body = {"held_at": NOW.isoformat(), "content": "GIS bays", "scope": "bays 1-2"}
    r = await site.post("/briefings", body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.customer_attendees"
    r = await site.post("/briefings", {**body, "customer_attendees": []})
    assert r.status_code == 422
    r = await site.post("/briefings", {**body, "customer_attendees": ["Liu (site manager)", "Zhang (operations)"]})
    assert r.status_code == 201 and r.json()["content"]["customer_attendees"][0] == "Liu (site manager)"
    held = (await events_of(app, site.case_id, "TechnicalBriefingHeld"))[0]
    assert held["customer_attendees"] == ["Liu (site manager)", "Zhang (operations)"]


async def test_s18_a_design_change_needs_its_change_document(new_site):
    site = await new_site(1, sheets=[])
    other = await new_site(1, sheets=[])
    body = {"kind": "design_change", "title": "Busbar rerouted", "description": "trench blocked"}
    assert refused_gate(await site.post("/process-records", body), "process record") == [
        "S18: a design change needs its change document (change_document reference or change_document_evidence_id)"]
    foreign = (await other.upload("visit", None, data=b"%PDF-1.4\n", content_type="application/pdf")).json()
    r = await site.post("/process-records", {**body, "change_document_evidence_id": foreign["id"]})
    assert refused_gate(r, "process record") == ["S18: the change document's evidence is not a file of this visit"]
    own = (await site.upload("visit", None, data=b"%PDF-1.4\n", content_type="application/pdf")).json()
    r = await site.post("/process-records", {**body, "change_document_evidence_id": own["id"]})
    assert r.status_code == 201 and r.json()["change_document_evidence_id"] == own["id"]
    r = await site.post("/process-records", {**body, "change_document": "DC-2026-017"})
    assert r.status_code == 201 and r.json()["change_document"] == "DC-2026-017"


async def test_s29_no_deviations_leaves_a_trace_once(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, sheets=[])
    assert (await site.post("/no-drawing-deviations")).status_code in (200, 204)
    assert (await site.post("/no-drawing-deviations")).status_code in (200, 204)
    declared = await events_of(app, site.case_id, "NoDrawingDeviationsDeclared")
    assert len(declared) == 1 and declared[0]["declared_by"] == site.engineers[0]


async def test_s31_the_customer_evaluation_is_recorded_or_its_refusal(new_site, onsite, env):
    app, client = onsite
    site = await new_site(1, sheets=[])
    code = f"M-{uuid.uuid4().hex[:6]}"
    r = await client.post("/training-materials", json={"code": code, "title": "GIS", "approved": True},
                          headers=site.as_("head-1", "department_head"))
    assert r.status_code == 201
    body = {"topics": ["use"], "materials": [code], "attendees": ["A"], "demonstration": True,
            "delivered_at": NOW.isoformat()}
    assert refused_gate(await site.post("/trainings", body), "training")[0].startswith(
        "S31: the customer's evaluation of the training is not recorded")
    r = await site.post("/trainings", {**body, "evaluation_scores": [4], "evaluation_declined": True})
    assert refused_gate(r, "training") == ["S31: evaluation forms are recorded, so the evaluation was not declined"]
    r = await site.post("/trainings", {**body, "evaluation_declined": True})
    assert r.status_code == 201 and r.json()["evaluation_declined"] is True
    assert (await site.post("/trainings", {**body, "evaluation_scores": [5, 4]})).status_code == 201
    delivered = await events_of(app, site.case_id, "TrainingDelivered")
    assert [d["evaluation_declined"] for d in delivered] == [True, False]


async def test_s21_exceptions_are_approved_by_a_department_head_and_a_refusal_not_kept_is_flagged(new_site, onsite):
    app, _ = onsite
    site = await new_site(2, sheets=[])
    refused = (await site.post("/leave-requests", {"reason": "called back", "site_manager": "Liu",
                                                   "consent": False, "exception_reason": "family emergency"})).json()
    assert refused["may_leave"] is False and refused["exception_approved_by"] is None
    r = await site.post("/leave-requests", {"reason": "x", "site_manager": "Liu", "consent": False,
                                            "exception_approved_by": "anyone"})
    assert r.status_code == 422  # approval is not free text any more
    path = f"/visits/{site.visit_id}/leave-requests/{refused['id']}/exception-approval"
    assert (await site.client.post(path, headers=site.as_(0))).status_code == 403
    head = site.as_("head-7", "department_head")
    r = await site.client.post(path, headers=head)
    assert r.status_code == 200 and r.json()["may_leave"] is True and r.json()["exception_approved_by"] == "head-7"
    assert refused_gate(await site.client.post(path, headers=head), "leave exception") == [
        "S21: the exception is already approved"]
    approved = await events_of(app, site.case_id, "LeaveExceptionApproved")
    assert approved[0]["approved_by"] == "head-7" and approved[0]["engineer_id"] == site.engineers[0]

    stays = (await site.post("/leave-requests", {"reason": "tired", "site_manager": "Liu", "consent": False},
                             who=1)).json()
    r = await site.client.post(f"/visits/{site.visit_id}/leave-requests/{stays['id']}/exception-approval",
                               headers=head)
    assert refused_gate(r, "leave exception") == [
        "S21: the engineer stated no reason for an exception (exception_reason)"]
    now = utcnow()
    async with transaction(app.state.sessions) as session:
        await flag_refused_leave(session=session, now=now + timedelta(hours=1))
    assert await events_of(app, site.case_id, "LeaveRefusalBreached") == []
    for _ in range(2):  # two days later, no sign-in since the refusal: flagged once
        async with transaction(app.state.sessions) as session:
            await flag_refused_leave(session=session, now=now + timedelta(days=2))
    breached = await events_of(app, site.case_id, "LeaveRefusalBreached")
    assert len(breached) == 1 and breached[0]["engineer_id"] == site.engineers[1]
    day_after = site_calendar().day(now, "north") + timedelta(days=1)  # the site's days (Asia/Shanghai)
    assert breached[0]["how"] == "no_sign_in" and breached[0]["day"] == day_after.isoformat()


async def test_s16_a_report_overdue_for_the_plans_period_is_a_finding(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, sheets=[])
    async with transaction(app.state.sessions) as session:
        visit = await session.get(SiteVisit, uuid.UUID(site.visit_id))
        visit.plan = {"plan_id": str(uuid.uuid4()), "version": 1, "report_period_days": 2}
    async with transaction(app.state.sessions) as session:
        await flag_overdue_reports(session=session, now=NOW + timedelta(days=1))
    assert await events_of(app, site.case_id, "CustomerReportOverdue") == []
    for _ in range(2):
        async with transaction(app.state.sessions) as session:
            await flag_overdue_reports(session=session, now=NOW + timedelta(days=3))
    overdue = await events_of(app, site.case_id, "CustomerReportOverdue")
    assert len(overdue) == 1 and overdue[0]["period_days"] == 2 and overdue[0]["last_report_at"] is None
    assert (await site.post("/customer-reports", {"summary": "week 1", "customer_agrees": True})).status_code == 201
    async with transaction(app.state.sessions) as session:
        await flag_overdue_reports(session=session, now=utcnow() + timedelta(days=1))
    assert len(await events_of(app, site.case_id, "CustomerReportOverdue")) == 1
