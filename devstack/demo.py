"""`make demo`: drive one case through the four services over HTTP and Kafka.

Prints each step and exits non-zero if an expected effect did not arrive in time. Against a
running `make run` stack (ports 8001-8004) by default.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from devstack.client import ConditionTimeout, StackClient, sample_request, wait_for
from devstack.stack import SERVICES


@dataclass
class Journey:
    """What one case picked up on its way through the services."""

    client: StackClient
    timeout: float
    say: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)
    reference: str = field(default_factory=lambda: f"CRM-{uuid.uuid4().hex[:10].upper()}")
    engineers: list[str] = field(default_factory=lambda: [f"eng-{uuid.uuid4().hex[:6]}" for _ in range(2)])
    ids: dict[str, str] = field(default_factory=dict)

    def step(self, text: str) -> None:
        self.say(f"[{time.monotonic() - self.started:6.2f}s] {text}")

    @property
    def dispatcher(self) -> dict[str, str]:
        return self.client.as_("dispatcher", "disp-001")

    def engineer(self, index: int = 0) -> dict[str, str]:
        return self.client.as_("engineer", self.engineers[index])

    def wait(self, what: str, probe):
        return wait_for(what, probe, self.timeout)


def prepare_and_dispatch(j: Journey) -> None:
    """Phase 1 (dispatch service): S1 intake to the S6 dispatch gate."""
    c = j.client
    r = c.crm_push(sample_request(j.reference))
    assert r.status_code == 201, r.text
    case_id = j.ids["case"] = r.json()["id"]
    j.step(f"S1 CRM request {j.reference} opened case {case_id}")
    again = c.crm_push(sample_request(j.reference))
    assert again.status_code == 200 and again.json()["id"] == case_id, again.text
    j.step("S1 the same CRM reference again returned the same case (200)")

    r = c.http["dispatch"].post(f"/cases/{case_id}/acknowledge", headers=j.dispatcher)
    assert r.status_code == 200, r.text
    j.step("S1 dispatcher acknowledged the case")

    now = datetime.now(UTC)
    team = [
        {"engineer_id": j.engineers[0], "name": "Chen Gang", "grade": 4, "is_project_manager": True},
        {"engineer_id": j.engineers[1], "name": "Zhao Lei", "grade": 3},
    ]
    r = c.http["dispatch"].post(f"/cases/{case_id}/dispatch", headers=j.dispatcher, json={
        "team": team, "planned_start": (now + timedelta(days=1)).isoformat(),
        "planned_end": (now + timedelta(days=5)).isoformat()})
    assert r.status_code == 200, r.text
    j.step("S6 case dispatched with a team of two (project manager named)")


# A tiny valid PNG for photo evidence (S19); the onsite service checks the type by its first bytes.
DEMO_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _onsite_item_value(item: dict) -> dict:
    """A passing value for a check-sheet item (S13): inside the limits, with its unit."""
    if item["kind"] == "value":
        low, high = item.get("lower_limit"), item.get("upper_limit")
        value = (low + high) / 2 if low is not None and high is not None else (low if low is not None else high)
        return {"value": float(value if value is not None else 1.0), "unit": item.get("unit")}
    if item["kind"] == "photo":
        return {"value": item["text"][:200]}
    return {"value": True}


def work_on_site(j: Journey) -> None:
    """Phase 2 (onsite service): visit opened from ServiceDispatched; S8 arrivals, S10 sign-in, S9 briefing,
    S11 permit, S14 safety, S13 every dispatched check-sheet item (S17 witness, S19 photo), S20 daily log."""
    c, case_id = j.client, j.ids["case"]
    onsite = c.http["onsite"]
    visit = j.wait("onsite to open the visit from ServiceDispatched", lambda: (
        onsite.get("/visits", params={"case_id": case_id}, headers=j.engineer()).json() or None))[0]
    vid = j.ids["visit"] = visit["id"]
    j.step(f"onsite opened visit {vid} from ServiceDispatched")
    now = datetime.now(UTC)
    calls = [{"party": p, "called_at": (now + timedelta(minutes=i)).isoformat(), "outcome": "reached"}
             for i, p in enumerate(["account_manager", "customer_contact", "site_interface"])]
    for who in range(len(j.engineers)):
        r = onsite.post(f"/visits/{vid}/arrivals", headers=j.engineer(who),
                        json={"arrived_at": (now + timedelta(minutes=5)).isoformat(), "calls": calls})
        assert r.status_code == 201, r.text
        r = onsite.post(f"/visits/{vid}/check-ins", headers=j.engineer(who), json={
            "at": now.isoformat(), "latitude": 31.23, "longitude": 121.47, "accuracy_m": 15})
        assert r.status_code == 201, r.text
    j.step("S8 both engineers arrived after the three calls -> EngineerArrived; S10 signed in with location")
    j.wait("dispatch to show the case on site", lambda: c.http["dispatch"].get(
        f"/cases/{case_id}", headers=j.dispatcher).json().get("status") in ("on_site", "completed"))
    j.step("dispatch shows the case on site")

    r = onsite.post(f"/visits/{vid}/briefings", headers=j.engineer(), json={
        "held_at": now.isoformat(), "content": "Installation and commissioning per the approved plan",
        "scope": "as dispatched", "risk_points": ["adjacent live equipment"], "disputed_points": []})
    assert r.status_code == 201, r.text
    r = onsite.post(f"/visits/{vid}/permits", headers=j.engineer(), json={
        "number": "WP-DEMO-1", "issued_by": "customer site manager", "scope": ["all"],
        "valid_from": (now - timedelta(hours=1)).isoformat(), "valid_to": (now + timedelta(days=7)).isoformat()})
    assert r.status_code == 201, r.text
    j.step("S9 technical briefing held; S11 work permit recorded")

    tasks = onsite.get(f"/visits/{vid}/tasks", headers=j.engineer()).json()
    for task in tasks:
        _work_task(j, vid, task, now)
    j.step(f"S13/S14 {len(tasks)} task(s) from the check sheets done (safety checklist, values, witnesses, photos)")
    for who in range(len(j.engineers)):
        r = onsite.post(f"/visits/{vid}/daily-logs", headers=j.engineer(who), json={
            "day": now.date().isoformat(), "work_done": "installation and tests", "progress": "on plan"})
        assert r.status_code == 201, r.text
    j.step("S20 daily work logs submitted")


def _work_task(j: Journey, vid: str, task: dict, now: datetime) -> None:
    """One task by the ticket: S14 checklist, start, every item recorded, witnessed/photographed, signed off."""
    onsite, base = j.client.http["onsite"], f"/visits/{vid}/tasks/{task['id']}"
    eng = j.engineer()
    r = onsite.post(f"{base}/safety-checklists", headers=eng, json={
        "day": now.date().isoformat(), "ppe": True, "helmet": True, "insulated_gloves": True,
        "insulated_tools": True, "tools_test_valid_until": (now + timedelta(days=180)).date().isoformat(),
        "barriers": True, "safety_watcher": "Li Ming"})
    assert r.status_code == 201, r.text
    r = onsite.post(f"{base}/start", headers=eng)
    assert r.status_code == 200, r.text
    for item in task["items"]:
        r = onsite.put(f"{base}/items/{item['item_id']}", headers=eng, json=_onsite_item_value(item))
        assert r.status_code == 200, r.text
        entry = r.json()
        if entry["requires_photo"]:
            r = onsite.post(f"/visits/{vid}/evidence", headers=eng,
                            files={"file": ("photo.png", DEMO_PNG, "image/png")},
                            data={"attached_kind": "process_data", "attached_id": entry["id"]})
            assert r.status_code == 201, r.text
        if entry["requires_witness"]:
            r = onsite.post(f"/visits/{vid}/witnesses", headers=eng, json={
                "subject_kind": "process_data", "subject_id": entry["id"], "name": "Wang Fang",
                "role": "customer engineer", "signature": {"kind": "typed", "typed_name": "Wang Fang",
                                                           "signed_at": now.isoformat()}})
            assert r.status_code == 201, r.text
        r = onsite.post(f"{base}/items/{item['item_id']}/sign-off", headers=eng)
        assert r.status_code == 200, r.text
    r = onsite.post(f"{base}/completion", headers=eng)
    assert r.status_code == 200, r.text


def raise_quality_issue(j: Journey) -> None:
    """S25 (quality service): an issue logged on the case shows on the visit."""
    c, case_id, visit_id = j.client, j.ids["case"], j.ids["visit"]
    body = {"case_id": case_id, "visit_id": visit_id, "product": "GIS bay", "model": "ZF11-126",
            "serial_number": "SN-0001", "failure_mode": "gas-leak", "severity": "major",
            "description": "SF6 density relay reads low on bay 2"}
    issue = j.wait("quality to accept the issue (it learns the team from ServiceDispatched)", lambda: (
        (resp := c.http["quality"].post("/issues", headers=j.engineer(), json=body)).status_code == 201
        and resp.json()))
    j.ids["issue"] = issue["id"]
    j.step(f"S25 quality issue {issue['id']} logged -> IssueLogged")
    j.wait("onsite to show the issue on the visit", lambda: any(
        i["issue_id"] == issue["id"] for i in c.http["onsite"].get(
            f"/visits/{visit_id}", headers=j.engineer()).json().get("quality_issues", [])))
    j.step("onsite shows the quality issue on the visit")


def complete_on_site(j: Journey) -> None:
    """S26-S30, S33 (onsite service): checks, clean-up, hand-over, drawings, the signed receipt, departures.

    The S30 gate needs the quality issue escalated (the quality phase escalates it -> IssueEscalated)."""
    onsite, vid = j.client.http["onsite"], j.ids["visit"]
    now = datetime.now(UTC)
    team = list(range(len(j.engineers)))
    for who in team:
        r = onsite.post(f"/visits/{vid}/checks", headers=j.engineer(who), json={})
        assert r.status_code == 201, r.text
    for who in team:  # each engineer's items cross-checked by the next one
        checked = j.engineers[(who + 1) % len(team)]
        if checked != j.engineers[who]:
            r = onsite.post(f"/visits/{vid}/checks", headers=j.engineer(who), json={"engineer_id": checked})
            assert r.status_code == 201, r.text
    j.step("S26 self-checks and cross-checks recorded")
    r = onsite.post(f"/visits/{vid}/cleanup", headers=j.engineer(),
                    json={"site_clean": True, "equipment_clean": True, "customer_confirmed_by": "Wang Fang"})
    assert r.status_code == 204, r.text
    signature = {"kind": "typed", "typed_name": "Wang Fang", "signed_at": now.isoformat()}
    r = onsite.post(f"/visits/{vid}/handovers", headers=j.engineer(), json={
        "items": [{"name": "spare fuses", "kind": "spare_part", "quantity": 6}], "received_by": "Wang Fang",
        "signature": signature})
    assert r.status_code == 201, r.text
    r = onsite.post(f"/visits/{vid}/no-drawing-deviations", headers=j.engineer())
    assert r.status_code == 204, r.text
    j.step("S27 clean-up confirmed; S28 hand-over signed; S29 no drawing deviations")
    j.wait("the completion gate to be clear (the quality issue escalated)", lambda: onsite.get(
        f"/visits/{vid}/completion-readiness", headers=j.engineer()).json()["missing_conditions"] == [])
    r = onsite.post(f"/visits/{vid}/completion", headers=j.engineer(), json={
        "work_done": "Installed and commissioned as planned", "operating_advice": "Check SF6 density monthly",
        "aspect_ratings": [{"aspect": "quality", "score": 5}, {"aspect": "timeliness", "score": 5}],
        "receipt_signed_by": "Wang Fang", "receipt_signature": signature, "receipt_rating": 5})
    assert r.status_code == 200, r.text
    j.step("S30 service receipt signed -> ServiceCompleted")
    pdf = onsite.get(f"/visits/{vid}/report.pdf", headers=j.dispatcher)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:200]
    j.step(f"S30 printable service report (Chinese/English): {len(pdf.content)} bytes of PDF")
    leave = {"departed_at": now.isoformat(), "regional_centre_informed_at": now.isoformat(),
             "department_head_informed_at": now.isoformat(), "site_manager_agreed_by": "Wang Fang"}
    for who in team:
        r = onsite.post(f"/visits/{vid}/departures", headers=j.engineer(who), json=leave)
        assert r.status_code == 201, r.text
    j.step("S33 both engineers departed -> EngineerDeparted; the visit is closed")


def follow_up(j: Journey) -> None:
    """S34 (feedback service): the completed service schedules the follow-up call."""
    agent = j.client.as_("call_centre_agent", "agent-01")
    call = j.wait("feedback to schedule the follow-up call", lambda: (
        j.client.http["feedback"].get("/follow-up-calls", params={"case_id": j.ids["case"]},
                                      headers=agent).json() or None))[0]
    j.ids["call"] = call["id"]
    j.step(f"S34 follow-up call {call['id']} scheduled, due {call['due_at']}")


EXPECTED_EVENTS = {"ServiceRequestReceived", "ServiceRequestAcknowledged", "ServiceDispatched", "EngineerArrived",
                   "IssueLogged", "ServiceCompleted", "FollowUpCallScheduled"}


def show_case_record(j: Journey) -> list[dict]:
    """The case record in dispatch: completed, with every event of every service on its timeline."""
    c, case_id = j.client, j.ids["case"]
    j.wait("dispatch to show the case completed", lambda: c.http["dispatch"].get(
        f"/cases/{case_id}", headers=j.dispatcher).json().get("status") == "completed")

    def full_timeline() -> list[dict] | None:
        entries = c.http["dispatch"].get(f"/cases/{case_id}/timeline", headers=j.dispatcher).json()
        return entries if {e["event_type"] for e in entries} >= EXPECTED_EVENTS else None

    timeline = j.wait("the timeline to hold every event of the slice", full_timeline)
    j.step("dispatch's case timeline:")
    for entry in timeline:
        j.say(f"          {entry['occurred_at']}  {entry['source']:<22} {entry['event_type']}")
    return timeline


def run_slice(client: StackClient, *, timeout: float, say: Callable[[str], None] = print) -> dict[str, object]:
    """One case through all four services, over HTTP and Kafka."""
    j = Journey(client, timeout, say)
    for phase in (prepare_and_dispatch, work_on_site, raise_quality_issue, complete_on_site, follow_up):
        phase(j)
    timeline = show_case_record(j)
    return {"case_id": j.ids["case"], "visit_id": j.ids["visit"], "issue_id": j.ids["issue"],
            "call_id": j.ids["call"], "timeline": timeline}


def main() -> int:
    ports = {s.name: int(os.environ.get(f"{s.env_prefix}_PORT", s.port)) for s in SERVICES}
    timeout = float(os.environ.get("DEMO_TIMEOUT", "180"))
    client = StackClient(ports)
    try:
        run_slice(client, timeout=timeout)
    except (ConditionTimeout, AssertionError) as exc:
        print(f"DEMO FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print("demo passed: every expected event arrived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
