"""Records on site over HTTP: S15, S16, S18, S21, S22-S24 (answered through dispatch's event), S31, S32."""

from __future__ import annotations

import uuid

import pytest

from services.onsite import handlers
from shared.db import transaction
from shared.events import EventEnvelope
from shared.events.dispatch import RoutedItemAnswered, RoutedItemAssigned
from tests.integration.onsite.conftest import NOW, events_of

pytestmark = pytest.mark.integration


async def test_records_are_kept_and_emit_their_events(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, sheets=[])
    assert (await site.post("/communications", {"kind": "difficulty", "text": "crane late",
                                                 "counterpart": "site manager"})).status_code == 201
    r = await site.post("/customer-reports", {"summary": "day 2", "customer_agrees": True,
                                              "escalate_to": "regional_centre"})
    assert r.status_code == 409 and r.json()["gate"] == "customer report"  # only a disagreement is escalated
    assert r.json()["missing_conditions"] == [
        "S16: only a disagreement of the customer is escalated (customer_agrees: false)"]
    r = await site.post("/customer-reports", {"summary": "day 2", "customer_opinion": "too slow",
                                              "customer_agrees": False, "escalate_to": "regional_centre"})
    assert r.status_code == 201 and r.json()["escalated_to"] == "regional_centre"
    r = await site.post("/process-records", {"kind": "drawing_modification", "title": "D-7", "description": "x"})
    assert r.status_code == 409 and r.json()["type"].endswith("/gate-refused")
    assert r.json()["missing_conditions"] == ["S18: a drawing modification records why it was made (reason)",
                                              "S18: a drawing modification records who approved it (approved_by)"]
    r = await site.post("/process-records", {"kind": "drawing_modification", "title": "D-7", "description": "route",
                                             "reason": "trench blocked", "approved_by": "design office"})
    assert r.status_code == 201
    refused = await site.post("/leave-requests", {"reason": "called back", "site_manager": "Liu", "consent": False})
    assert refused.json()["may_leave"] is False
    excepted = await site.post("/leave-requests", {"reason": "called back", "site_manager": "Liu", "consent": False,
                                                   "exception_reason": "urgent"})
    assert excepted.json()["may_leave"] is False  # until a department head approves the exception (S21)
    assert (await site.post("/customer-information", {"kind": "business_lead",
                                                      "text": "wants a second transformer"})).status_code == 201
    for text in ("crane arrived", "agreed to work on Saturday"):
        await site.post("/communications", {"kind": "agreed_solution", "text": text, "counterpart": "site manager"})
    first = (await site.get("/communications?limit=2")).json()
    second = (await site.get(f"/communications?limit=2&cursor={first['next_cursor']}")).json()
    assert [e["text"] for e in first["items"] + second["items"]] == [
        "crane late", "crane arrived", "agreed to work on Saturday"]
    assert second["next_cursor"] is None
    assert (await site.get("/communications?cursor=garbage")).status_code == 422
    for event_type in ("CommunicationLogged", "CustomerReportSent", "ProcessRecordAdded", "LeaveDecided",
                       "CustomerInformationCaptured"):
        assert await events_of(app, site.case_id, event_type), event_type


async def test_raised_items_are_tracked_until_dispatch_answers(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, sheets=[])
    r = await site.post("/raised-items", {"kind": "referral", "summary": "asks about transformers",
                                          "product": "power transformer"})
    item = r.json()
    assert r.status_code == 201 and item["status"] == "open"
    r = await site.post("/raised-items", {"kind": "internal_disagreement", "summary": "x", "units": ["GIS"]})
    assert r.status_code == 409 and r.json()["missing_conditions"] == [
        "S24: an internal disagreement names at least two units (units)"]
    assert (await events_of(app, site.case_id, "ReferralRaised"))[0]["product"] == "power transformer"
    case_id, item_id = uuid.UUID(site.case_id), uuid.UUID(item["id"])
    for payload, handler in ((RoutedItemAssigned(case_id=case_id, item_id=item_id, kind="referral",
                                                 unit="transformer works", assigned_by="disp-1"), handlers.routed),
                             (RoutedItemAnswered(case_id=case_id, item_id=item_id, kind="referral",
                                                 answer="sales will call", answered_by="tw-1"), handlers.answered)):
        envelope = EventEnvelope.wrap(payload, source="/fieldservice/dispatch", subject=site.case_id, actor="d")
        async with transaction(app.state.sessions) as session:
            await handler(session, envelope, payload)
    shown = (await site.get("/raised-items", who="disp-1", role="dispatcher")).json()["items"][0]
    assert (shown["status"], shown["unit"], shown["answer"]) == ("answered", "transformer works", "sales will call")


async def test_training_uses_approved_materials_only(new_site, env, onsite):
    app, client = onsite
    site = await new_site(1, sheets=[])
    head = site.as_("head-1", "department_head")
    code = f"M-{uuid.uuid4().hex[:6]}"
    for c, approved in ((code, True), (f"{code}-draft", False)):
        r = await client.post("/training-materials", json={"code": c, "title": "GIS operation", "approved": approved},
                              headers=head)
        assert r.status_code == 201
    assert (await client.post("/training-materials", json={"code": code, "title": "x"},
                              headers=site.as_(0))).status_code == 403
    body = {"topics": ["use", "emergency"], "materials": [code, f"{code}-draft"], "attendees": ["A", "B"],
            "demonstration": True, "evaluation_scores": [5, 4], "test_scores": [92.5, 80],
            "delivered_at": NOW.isoformat()}
    r = await site.post("/trainings", body)
    assert r.status_code == 409 and r.json()["missing_conditions"] == [f"S31: material {code}-draft is not approved"]
    assert (await site.post("/trainings", {**body, "evaluation_scores": [6]})).status_code == 422
    r = await site.post("/trainings", {**body, "materials": [code]})
    assert r.status_code == 201
    delivered = (await events_of(app, site.case_id, "TrainingDelivered"))[0]
    assert delivered["attendees"] == 2 and delivered["customer_name"] == "North Grid Co."
