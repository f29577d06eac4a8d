"""Onsite over HTTP: the task-start gate (S9, S11, S14), process data (S13), witness (S17), evidence (S19)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.integration.conftest import bearer
from tests.integration.onsite.conftest import NOW, PDF, PNG

pytestmark = pytest.mark.integration


async def test_a_task_starts_only_after_briefing_with_a_valid_permit_and_its_safety_checklist(new_site):
    site = await new_site(1)
    hv = (await site.tasks())["cs-hv"]
    assert hv["live_hv"] and hv["primary_test"] and hv["status"] == "planned"

    r = await site.post(f"/tasks/{hv['id']}/start")
    assert r.status_code == 409, r.text
    assert r.json()["gate"] == "task start"
    assert r.json()["missing_conditions"] == [
        "S9: the technical briefing has not been held",
        "S11: no valid work permit covers scope 'cs-hv' now",
        "S14: no safety checklist for this task today",
    ]

    briefing = await site.brief(disputed=["who supplies the SF6 gas"])
    assert briefing["disputes"][0]["status"] == "open"
    await site.permit(["cs-mount"])  # covers another task only
    checklist = await site.safe(hv["id"], insulated_gloves=False, safety_watcher=None)
    assert checklist.status_code == 201
    assert checklist.json()["missing"] == ["S14: insulated gloves not confirmed (live HV work)",
                                           "S14: no named safety watcher (primary-equipment test)"]
    r = await site.post(f"/tasks/{hv['id']}/start")
    assert r.json()["missing_conditions"] == [
        "S11: no valid work permit covers scope 'cs-hv' now",
        "S14: insulated gloves not confirmed (live HV work)",
        "S14: no named safety watcher (primary-equipment test)",
    ]

    await site.permit(["cs-hv"])
    assert (await site.safe(hv["id"])).json()["missing"] == []
    r = await site.post(f"/tasks/{hv['id']}/start", headers={"If-Match": 'W/"99"'})
    assert r.status_code == 412
    r = await site.post(f"/tasks/{hv['id']}/start")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "started" and r.headers["ETag"] == 'W/"2"'

    # The disputed point stays open (not blocking) and can be escalated once.
    dispute_id = briefing["disputes"][0]["id"]
    r = await site.post(f"/disputes/{dispute_id}/escalation", {"escalated_to": "regional_centre"})
    assert r.status_code == 200 and r.json()["status"] == "escalated"
    again = await site.post(f"/disputes/{dispute_id}/escalation", {"escalated_to": "unit_leadership"})
    assert again.status_code == 409


async def test_values_outside_limits_fail_units_are_required_and_witnessed_entries_need_a_witness(new_site):
    site = await new_site(1)
    hv = (await site.tasks())["cs-hv"]
    await site.brief()
    await site.permit(["all"])
    await site.safe(hv["id"])
    assert (await site.post(f"/tasks/{hv['id']}/start")).status_code == 200

    r = await site.put(f"/tasks/{hv['id']}/items/r1", {"value": 80.5})
    assert r.status_code == 422 and r.json()["field"] == "unit"
    r = await site.put(f"/tasks/{hv['id']}/items/r1", {"value": 135.0, "unit": "µΩ"})
    assert r.status_code == 200 and r.json()["passed"] is False  # failed automatically
    r = await site.put(f"/tasks/{hv['id']}/items/r1", {"value": 98.0, "unit": "µΩ"})
    entry = r.json()
    assert entry["passed"] is True and entry["requires_witness"] is True
    assert (await site.put(f"/tasks/{hv['id']}/items/nope", {"value": True})).status_code == 404

    r = await site.post(f"/tasks/{hv['id']}/items/r1/sign-off")
    assert r.status_code == 409
    assert r.json()["missing_conditions"] == ["S17: item r1 needs a witness (name, role, signature) before sign-off"]
    unsigned = {"kind": "typed", "signed_at": "2026-11-27T10:00:00Z"}
    bad = await site.post("/witnesses", {"subject_kind": "process_data", "subject_id": entry["id"], "name": "Z",
                                          "role": "r", "signature": unsigned})
    assert bad.status_code == 422
    assert (await site.witness("process_data", entry["id"])).status_code == 201
    r = await site.post(f"/tasks/{hv['id']}/items/r1/sign-off")
    assert r.status_code == 200 and r.json()["signed_off_at"]
    assert (await site.post(f"/tasks/{hv['id']}/items/r1/sign-off")).status_code == 409

    # The task is not done before every item is recorded and signed off.
    r = await site.post(f"/tasks/{hv['id']}/completion")
    assert r.json()["missing_conditions"] == ["S13: item y1 (Interlocks work) not recorded"]
    await site.put(f"/tasks/{hv['id']}/items/y1", {"value": True})
    await site.post(f"/tasks/{hv['id']}/items/y1/sign-off")
    r = await site.post(f"/tasks/{hv['id']}/completion")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done"


async def test_milestone_needs_its_witness_and_milestones_without_evidence_are_listed(new_site):
    site = await new_site(1)
    r = await site.post("/milestones", {"title": "Bay 1 energised", "requires_witness": True})
    milestone = r.json()
    r = await site.post(f"/milestones/{milestone['id']}/sign-off")
    assert r.status_code == 409 and r.json()["missing_conditions"][0].startswith("S17: milestone 'Bay 1 energised'")
    missing = await site.get("/milestones-without-evidence")
    assert [m["id"] for m in missing.json()] == [milestone["id"]]
    assert (await site.upload("milestone", milestone["id"])).status_code == 201
    assert (await site.get("/milestones-without-evidence")).json() == []
    # A signature image must be an image uploaded to this visit.
    pdf_id = (await site.upload("visit", None, data=PDF, content_type="application/pdf")).json()["id"]
    png_id = (await site.upload("signature", None)).json()["id"]
    signed = {"subject_kind": "milestone", "subject_id": milestone["id"], "name": "Zhang Wei", "role": "customer"}
    r = await site.post("/witnesses", {**signed, "signature": {"kind": "image", "evidence_id": pdf_id,
                                                               "signed_at": NOW.isoformat()}})
    assert r.status_code == 422
    r = await site.post("/witnesses", {**signed, "signature": {"kind": "image", "evidence_id": png_id,
                                                               "signed_at": NOW.isoformat()}})
    assert r.status_code == 201 and r.json()["signature_evidence_id"] == png_id
    r = await site.post(f"/milestones/{milestone['id']}/sign-off")
    assert r.status_code == 200 and r.json()["reached_at"]


async def test_evidence_limits_and_hash_checked_on_download(new_site, onsite):
    site = await new_site(1)
    r = await site.upload("visit", None, data=PDF, content_type="application/pdf")
    assert r.status_code == 201, r.text
    evidence = r.json()
    assert evidence["sha256"] == hashlib.sha256(PDF).hexdigest()
    r = await site.get(f"/evidence/{evidence['id']}/content", role="dispatcher", who="disp-1")
    assert r.status_code == 200 and r.content == PDF and r.headers["x-content-sha256"] == evidence["sha256"]

    too_big = await site.upload("visit", None, data=PNG + b"\x00" * 5000)
    assert too_big.status_code == 413 and too_big.headers["content-type"] == "application/problem+json"
    assert (await site.upload("visit", None, data=b"GIF89a...", content_type="image/gif")).status_code == 415
    assert (await site.upload("visit", None, data=b"not a png", content_type="image/png")).status_code == 415
    assert (await site.upload("milestone", None)).status_code == 422

    # A file changed in storage is refused on download, as a problem.
    app, _ = onsite
    path = Path(app.state.settings.evidence_dir) / site.visit_id / evidence["id"]
    path.write_bytes(PDF + b"tampered")
    r = await site.get(f"/evidence/{evidence['id']}/content")
    assert r.status_code == 500 and r.json()["type"].endswith("/evidence-integrity")

    r = await site.post(f"/evidence/{evidence['id']}/confirmation", {"confirmed_by": "Wang Fang"})
    assert r.status_code == 200 and r.json()["confirmed_by_customer"] == "Wang Fang"
    assert (await site.post(f"/evidence/{evidence['id']}/confirmation", {"confirmed_by": "X"})).status_code == 409


async def test_only_the_team_works_and_others_may_read(new_site):
    site = await new_site(1)
    assert (await site.post("/permits", {"number": "1", "issued_by": "x", "scope": ["all"],
                                         "valid_from": "2026-11-27T00:00:00Z", "valid_to": "2026-11-28T00:00:00Z"},
                            who="eng-stranger")).status_code == 404
    r = await site.client.post(f"/visits/{site.visit_id}/briefings", json={}, headers=site.as_("disp-1", "dispatcher"))
    assert r.status_code == 403
    for role in ("dispatcher", "regional_centre", "department_head", "admin"):  # the visit is in region north
        headers = bearer(site.env, role, "someone", region="north")
        assert (await site.client.get(f"/visits/{site.visit_id}/tasks", headers=headers)).status_code == 200
    r = await site.post("/permits", {"number": "1", "issued_by": "x", "scope": ["all"],
                                     "valid_from": "2026-11-28T00:00:00Z", "valid_to": "2026-11-27T00:00:00Z"})
    assert r.status_code == 422


async def test_before_arrival_no_work_is_recorded(new_site):
    site = await new_site(1, arrive=False)
    r = await site.post("/briefings", {"held_at": "2026-11-27T08:00:00Z", "content": "c", "scope": "s",
                                       "customer_attendees": ["Liu"]})
    assert r.status_code == 409 and "arrived" in r.json()["detail"]
