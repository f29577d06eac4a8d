"""Onsite over HTTP: S30 waits for the finished work (S13, S17, S19) and a failed value needs a disposition
(S13, S25, S26): re-measured with the failed reading kept, a linked logged issue, or the customer's concession."""

from __future__ import annotations

import uuid

import pytest

from services.onsite import handlers
from shared.events.dispatch import CheckSheet, CheckSheetItem
from tests.integration.onsite.conftest import NOW, events_of
from tests.integration.onsite.test_closing_gates import RECEIPT, leave, logged, quality_event

pytestmark = pytest.mark.integration

WITNESS = {"name": "Zhang Wei", "role": "customer test engineer",
           "signature": {"kind": "typed", "typed_name": "Zhang Wei", "signed_at": NOW.isoformat()}}


def measurements() -> list[CheckSheet]:
    """Three measurements with limits (no witness, no live work), to dispose of a failure in each of three ways."""
    items = [CheckSheetItem(item_id=f"r{i}", text=f"Insulation resistance {i}", kind="value", unit="MΩ",
                            lower_limit=1000, upper_limit=None) for i in (1, 2, 3)]
    return [CheckSheet(sheet_id="cs-ir", kind="check_sheet", title="Insulation tests", template_id="t-ir",
                       template_version=1, items=items)]


async def close_out(site) -> None:
    """S26-S29 for a one-engineer visit (everything but the work itself)."""
    assert (await site.post("/checks", {})).status_code == 201
    r = await site.post("/cleanup", {"site_clean": True, "equipment_clean": True, "customer_confirmed_by": "Liu"})
    assert r.status_code < 300, r.text
    r = await site.post("/handovers", {"items": [], "received_by": "Liu", "signature": {
        "kind": "typed", "typed_name": "Liu", "signed_at": NOW.isoformat()}})
    assert r.status_code == 201, r.text
    assert (await site.post("/no-drawing-deviations")).status_code < 300


async def test_completion_lists_the_unfinished_work_then_the_receipt_is_signed_and_the_team_departs(new_site):
    site = await new_site(1)
    tasks = await site.tasks()
    hv, mount = tasks["cs-hv"], tasks["cs-mount"]
    await site.brief()
    await site.permit(["all"])
    for task in (hv, mount):
        assert (await site.safe(task["id"])).status_code == 201
        assert (await site.post(f"/tasks/{task['id']}/start")).status_code == 200
    r1 = (await site.put(f"/tasks/{hv['id']}/items/r1", {"value": 98.0, "unit": "µΩ"})).json()
    await site.put(f"/tasks/{hv['id']}/items/y1", {"value": True})
    p1 = (await site.put(f"/tasks/{mount['id']}/items/p1", {"value": "nameplate"})).json()
    milestone = (await site.post("/milestones", {"title": "Bay 1 energised", "requires_witness": True})).json()
    await close_out(site)

    unfinished = [
        "S13: task 'Circuit-breaker tests' is started, not done",
        "S13: task 'Mounting' is started, not done",
        "S17: item Circuit-breaker tests/r1 has no witness recorded",
        "S13: item Circuit-breaker tests/r1 not signed off",
        "S13: item Circuit-breaker tests/y1 not signed off",
        "S13: item Mounting/p1 not signed off",
        "S17: milestone 'Bay 1 energised' has no witness recorded",
        "S13: milestone 'Bay 1 energised' not signed off",
        "S19: milestone 'Bay 1 energised' has no photo or document",
    ]
    # (Tasks opened by one dispatch share their creation time: their order is not part of the answer.)
    assert sorted((await site.get("/completion-readiness")).json()["missing_conditions"]) == sorted(unfinished)
    r = await site.post("/completion", RECEIPT)
    assert r.status_code == 409 and r.json()["gate"] == "completion"
    assert sorted(r.json()["missing_conditions"]) == sorted(unfinished)

    # The work finished the standard's way: witness, photo, sign-offs, tasks done, the milestone's evidence.
    assert (await site.witness("process_data", r1["id"])).status_code == 201
    assert (await site.upload("process_data", p1["id"])).status_code == 201
    for task_id, item in ((hv["id"], "r1"), (hv["id"], "y1"), (mount["id"], "p1")):
        r = await site.post(f"/tasks/{task_id}/items/{item}/sign-off")
        assert r.status_code == 200, r.text
    for task in (hv, mount):
        assert (await site.post(f"/tasks/{task['id']}/completion")).status_code == 200
    assert (await site.witness("milestone", milestone["id"])).status_code == 201
    missing = (await site.get("/completion-readiness")).json()["missing_conditions"]
    assert missing == ["S13: milestone 'Bay 1 energised' not signed off",
                       "S19: milestone 'Bay 1 energised' has no photo or document"]
    assert (await site.upload("milestone", milestone["id"])).status_code == 201
    assert (await site.post(f"/milestones/{milestone['id']}/sign-off")).status_code == 200
    assert (await site.get("/completion-readiness")).json()["missing_conditions"] == []

    r = await site.post("/completion", RECEIPT)
    assert r.status_code == 200, r.text
    assert (await site.post("/departures", leave())).status_code == 201
    assert (await site.get()).json()["closed_at"] is not None


async def test_a_failed_value_is_signed_off_only_with_a_disposition_and_every_reading_is_kept(new_site, onsite):
    app, _ = onsite
    site = await new_site(1, sheets=measurements())
    task = (await site.tasks())["cs-ir"]
    base = f"/tasks/{task['id']}/items"
    await site.brief()
    await site.permit(["all"])
    await site.safe(task["id"])
    assert (await site.post(f"/tasks/{task['id']}/start")).status_code == 200
    for item in ("r1", "r2", "r3"):
        r = await site.put(f"{base}/{item}", {"value": 400.0, "unit": "MΩ"})
        assert r.status_code == 200 and r.json()["passed"] is False

    # Refused: sign-off, the S26 self-check, and the S30 gate each name the failed values.
    r = await site.post(f"{base}/r1/sign-off")
    assert r.status_code == 409 and r.json()["gate"] == "sign-off"
    assert r.json()["missing_conditions"] == [
        "S25: item r1 failed (outside its limits) and has no disposition: re-measure within limits, "
        "link the logged S25 quality issue, or record a concession signed by the customer's witness"]
    r = await site.post("/checks", {})
    assert r.status_code == 409 and r.json()["gate"] == "self-check"
    assert r.json()["missing_conditions"] == [
        f"S26: check-sheet item Insulation tests/{i} failed and has no disposition" for i in ("r1", "r2", "r3")]
    missing = (await site.get("/completion-readiness")).json()["missing_conditions"]
    for i in ("r1", "r2", "r3"):
        assert f"S25: item Insulation tests/{i} failed (outside its limits) and has no disposition" in missing

    # (a) Re-measured within limits: the failed reading stays in the history.
    r = await site.put(f"{base}/r1", {"value": 2500.0, "unit": "MΩ"})
    assert r.json()["passed"] is True and r.json()["disposition"] == "remeasured"
    readings = (await site.get(f"{base}/r1/readings")).json()
    assert [(x["value"], x["passed"]) for x in readings] == [(400.0, False), (2500.0, True)]
    assert (await site.post(f"{base}/r1/sign-off")).status_code == 200
    recorded = [e for e in await events_of(app, site.case_id, "ProcessDataRecorded") if e["item_id"] == "r1"]
    assert [e["passed"] for e in recorded] == [False, True]
    assert (recorded[0]["item_text"], recorded[0]["lower_limit"], recorded[0]["equipment_type"]) == (
        "Insulation resistance 1", 1000.0, "GIS")
    assert recorded[0]["reading_id"] == readings[0]["id"]

    # (b) Linked to a logged S25 issue: refused until the issue is logged on this visit.
    issue_id = uuid.uuid4()
    r = await site.post(f"{base}/r2/disposition", {"kind": "issue", "issue_id": str(issue_id)})
    assert r.status_code == 409 and r.json()["gate"] == "disposition"
    assert r.json()["missing_conditions"] == [f"S25: quality issue {issue_id} is not logged on this visit"]
    await quality_event(app, site, handlers.show_issue, logged(site, issue_id))
    r = await site.post(f"{base}/r2/disposition", {"kind": "issue", "issue_id": str(issue_id)})
    assert r.status_code == 200 and (r.json()["disposition"], r.json()["issue_id"]) == ("issue", str(issue_id))
    assert (await site.post(f"{base}/r2/sign-off")).status_code == 200

    # (c) A concession signed by the customer's witness (reason and signature required).
    r = await site.post(f"{base}/r3/disposition", {"kind": "concession", "reason": "   "})
    assert r.status_code == 422
    r = await site.post(f"{base}/r3/disposition", {"kind": "concession", "reason": "accepted per customer spec 7.2",
                                                   "customer_witness": WITNESS})
    assert r.status_code == 200, r.text
    entry = r.json()
    assert entry["disposition"] == "concession" and entry["concession_witness_id"]
    assert (await site.post(f"{base}/r3/sign-off")).status_code == 200
    # A passing or signed entry needs no disposition.
    r = await site.post(f"{base}/r1/disposition", {"kind": "concession", "reason": "x", "customer_witness": WITNESS})
    assert r.status_code == 409 and "item r1 passed: no disposition is needed" in r.json()["missing_conditions"]

    assert (await site.post(f"/tasks/{task['id']}/completion")).status_code == 200
    assert (await site.post("/checks", {})).status_code == 201
    missing = (await site.get("/completion-readiness")).json()["missing_conditions"]
    assert not [m for m in missing if m.startswith(("S13", "S17", "S19", "S25: item", "S26"))], missing
