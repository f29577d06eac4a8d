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
from devstack.stack import ports_from_env
from services.onsite.site_days import site_calendar


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


DEMO_TEMPLATE = {
    "template_id": "gis-126kv-commissioning", "kind": "check_sheet", "title": "GIS 126 kV commissioning check sheet",
    "equipment_type": "GIS-126kV", "difficulty": None,
    "items": [
        {"item_id": "sf6-density", "text": "SF6 density at 20 C, every gas compartment", "kind": "value",
         "unit": "MPa", "lower_limit": 0.55, "upper_limit": 0.65},
        {"item_id": "ac-withstand", "text": "AC withstand test of the main circuit, witnessed by the customer",
         "kind": "value", "unit": "kV", "lower_limit": 0, "upper_limit": 230, "requires_witness": True,
         "primary_test": True},
        {"item_id": "busbar-torque", "text": "Busbar bolts torqued and marked", "kind": "yes_no"},
        {"item_id": "nameplate-photo", "text": "Photo of every bay's nameplate", "kind": "photo"},
    ],
}


def prepare_and_dispatch(j: Journey) -> None:
    """Phase 1 (dispatch service): S1 intake, S2 conditions, S3 staffing, S4 plan, S5 pack, S6 preparation
    and the dispatch gate."""
    c = j.client
    http = c.http["dispatch"]
    r = c.crm_push(sample_request(j.reference))
    assert r.status_code == 201, r.text
    case_id = j.ids["case"] = r.json()["id"]
    j.step(f"S1 CRM request {j.reference} opened case {case_id}")
    again = c.crm_push(sample_request(j.reference))
    assert again.status_code == 200 and again.json()["id"] == case_id, again.text
    j.step("S1 the same CRM reference again returned the same case (200)")

    r = http.post(f"/cases/{case_id}/acknowledge", headers=j.dispatcher)
    assert r.status_code == 200, r.text
    j.step("S1 dispatcher acknowledged the case")

    refused = http.post(f"/cases/{case_id}/dispatch", headers=j.dispatcher)
    assert refused.status_code == 409, refused.text
    j.step(f"S6 dispatch refused, missing: {'; '.join(refused.json()['missing_conditions'])}")

    now = datetime.now(UTC)
    r = http.post(f"/cases/{case_id}/condition-calls", headers=j.dispatcher, json={
        "outcome": "confirmed", "called_at": now.isoformat(),
        "conditions": {"site_address": "88 Xinhua Road, Wuxi", "site_environment": "indoor GIS hall",
                       "work_content": "install and commission three GIS bays",
                       "required_arrival": (now + timedelta(days=1)).isoformat(),
                       "customer_preparation": ["foundations", "crane"], "company_preparation": ["tools", "SF6"],
                       "special_requirements": {"local_government": "district work permit"},
                       "customer_deadline": (now + timedelta(days=7)).isoformat()}})
    assert r.status_code == 201, r.text
    j.step("S2 service conditions confirmed with the customer -> ServiceConditionsConfirmed")

    expiry = (now + timedelta(days=365)).date().isoformat()
    for eid, name, grade in ((j.engineers[0], "Chen Gang", 4), (j.engineers[1], "Zhao Lei", 3)):
        r = http.post("/engineers", headers=j.dispatcher, json={
            "id": eid, "name": name, "grade": grade, "home_region": "east",
            "skills": [{"equipment_type": "GIS-126kV", "level": 4}],
            "certificates": [{"type": "hv_live_work", "number": f"HV-{eid}", "expires_on": expiry}]})
        assert r.status_code == 201, r.text
    r = http.post(f"/cases/{case_id}/assignment", headers=j.dispatcher, json={
        "engineers": [{"engineer_id": j.engineers[0], "is_project_manager": True},
                      {"engineer_id": j.engineers[1]}],
        "planned_start": (now + timedelta(days=1)).isoformat(), "planned_end": (now + timedelta(days=5)).isoformat()})
    assert r.status_code == 200, r.text
    j.step("S3 two engineers assigned under the staffing policy, Chen Gang project manager -> EngineersAssigned")

    r = http.post(f"/cases/{case_id}/plans", headers=j.dispatcher, json={
        "goals": ["three bays energised", "every test within limits"],
        "steps": [{"order": 1, "title": "Assemble bays", "operation": "crane lift", "how": "per drawing D-12"},
                  {"order": 2, "title": "Gas filling", "operation": "SF6 filling", "how": "to 0.6 MPa at 20 C"},
                  {"order": 3, "title": "HV test", "operation": "AC withstand", "how": "barrier and watcher"}],
        "risk_measures": ["barriers and a safety watcher during tests", "gas handling PPE"]})
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    r = http.post(f"/plans/{plan_id}/submit", headers=j.dispatcher)
    assert r.status_code == 200, r.text
    r = http.post(f"/plans/{plan_id}/approve", headers=c.as_("department_head", "head-001"))
    assert r.status_code == 200, r.text
    j.step("S4 service plan approved by the department head -> ServicePlanApproved")

    r = http.post("/specification-templates", headers=j.dispatcher, json=DEMO_TEMPLATE)
    assert r.status_code in (201, 409), r.text  # 409: an earlier demo created it
    r = http.post(f"/cases/{case_id}/specification-pack", headers=j.dispatcher, json={})
    assert r.status_code == 201, r.text
    j.step(f"S5 specification pack attached ({', '.join(r.json()['templates'])}) -> SpecificationPackAttached")

    items = http.get(f"/cases/{case_id}/preparation", headers=j.dispatcher).json()["items"]
    for key in [i["key"] for i in items]:  # the standard's categories, the plan's and S2's company-side items
        r = http.put(f"/cases/{case_id}/preparation/items/{key}", headers=j.dispatcher, json={"done": True})
        assert r.status_code == 200, r.text
    j.step("S6 preparation checklist complete -> PreparationCompleted")

    r = http.post(f"/cases/{case_id}/dispatch", headers=j.dispatcher)
    assert r.status_code == 200, r.text
    j.step("S6 case dispatched with team, contacts, plan and check sheets -> ServiceDispatched")


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
        onsite.get("/visits", params={"case_id": case_id}, headers=j.engineer()).json()["items"] or None))[0]
    vid = j.ids["visit"] = visit["id"]
    j.step(f"onsite opened visit {vid} from ServiceDispatched")
    now = datetime.now(UTC)
    day = site_calendar().day(now, visit["region"]).isoformat()  # S10/S14/S20: the site's day, not UTC's
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
        "scope": "as dispatched", "risk_points": ["adjacent live equipment"], "disputed_points": [],
        "customer_attendees": ["Liu (site manager)", "Zhang Wei (customer test engineer)"]})
    assert r.status_code == 201, r.text
    r = onsite.post(f"/visits/{vid}/permits", headers=j.engineer(), json={
        "number": "WP-DEMO-1", "issued_by": "customer site manager", "scope": ["all"],
        "valid_from": (now - timedelta(hours=1)).isoformat(), "valid_to": (now + timedelta(days=7)).isoformat()})
    assert r.status_code == 201, r.text
    j.step("S9 technical briefing held; S11 work permit recorded")

    tasks = onsite.get(f"/visits/{vid}/tasks", headers=j.engineer()).json()
    for task in tasks:
        _work_task(j, vid, task, now, day)
    j.step(f"S13/S14 {len(tasks)} task(s) from the check sheets done (safety checklist, values, witnesses, photos)")
    milestone = onsite.post(f"/visits/{vid}/milestones", headers=j.engineer(),
                            json={"title": "Bays energised and tested"})
    assert milestone.status_code == 201, milestone.text
    r = onsite.post(f"/visits/{vid}/evidence", headers=j.engineer(),
                    files={"file": ("energised.png", DEMO_PNG, "image/png")},
                    data={"attached_kind": "milestone", "attached_id": milestone.json()["id"]})
    assert r.status_code == 201, r.text  # S19: every milestone result has its photo (the S30 gate checks it)
    r = onsite.post(f"/visits/{vid}/milestones/{milestone.json()['id']}/sign-off", headers=j.engineer())
    assert r.status_code == 200, r.text
    j.step("S13 milestone 'Bays energised and tested' photographed (S19) and signed off -> MilestoneReached")
    for who in range(len(j.engineers)):
        r = onsite.post(f"/visits/{vid}/daily-logs", headers=j.engineer(who), json={
            "day": day, "work_done": "installation and tests", "progress": "on plan"})
        assert r.status_code == 201, r.text
    j.step("S20 daily work logs submitted")


def _work_task(j: Journey, vid: str, task: dict, now: datetime, day: str) -> None:
    """One task by the ticket: S14 checklist, start, every item recorded, witnessed/photographed, signed off."""
    onsite, base = j.client.http["onsite"], f"/visits/{vid}/tasks/{task['id']}"
    eng = j.engineer()
    r = onsite.post(f"{base}/safety-checklists", headers=eng, json={
        "day": day, "ppe": True, "helmet": True, "insulated_gloves": True,
        "insulated_tools": True, "tools_test_valid_until": (now + timedelta(days=180)).date().isoformat(),
        "gloves_test_valid_until": (now + timedelta(days=90)).date().isoformat(),
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
    """S25 (quality service): an issue logged on the case shows on the visit; a quality engineer
    escalates it into the closed loop, so the onsite completion gate (no open, un-escalated
    on-site issue) lets the service complete."""
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
    quality_engineer = c.as_("quality_engineer", "qe-001", unit="switchgear-quality")
    r = c.http["quality"].post(f"/issues/{issue['id']}/escalation", headers=quality_engineer,
                               json={"responsible_unit": "switchgear-quality", "owner": "qe-001"})
    assert r.status_code == 200, r.text
    j.step(f"S25 issue escalated to switchgear-quality (owner qe-001, due {r.json()['sla']['resolution']['due_at']})"
           " -> IssueEscalated")


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
    for who in team:
        r = onsite.post(f"/visits/{vid}/check-outs", headers=j.engineer(who), json={
            "at": datetime.now(UTC).isoformat(), "latitude": 31.23, "longitude": 121.47, "accuracy_m": 15})
        assert r.status_code == 200, r.text
    j.step("S10 both engineers signed out with location -> EngineerCheckedOut")
    leave = {"departed_at": now.isoformat(), "regional_centre_informed_at": now.isoformat(),
             "department_head_informed_at": now.isoformat(), "site_manager_agreed_by": "Wang Fang"}
    for who in team:
        r = onsite.post(f"/visits/{vid}/departures", headers=j.engineer(who), json=leave)
        assert r.status_code == 201, r.text
    j.step("S33 both engineers departed -> EngineerDeparted; the visit is closed")


def follow_up(j: Journey) -> None:
    """S34 / S32 (feedback service): the completed service schedules the follow-up call; the call-centre
    tool claims it (refused until due, inside the calling window), sends the customer a one-time survey
    link whose answer completes the call, and routes a business lead heard on the call."""
    fb, case_id = j.client.http["feedback"], j.ids["case"]
    agent = j.client.as_("call_centre_agent", "agent-01")
    call = j.wait("feedback to schedule the follow-up call", lambda: (
        fb.get("/follow-up-calls", params={"case_id": case_id}, headers=agent).json()["items"] or None))[0]
    j.ids["call"] = call["id"]
    j.step(f"S34 follow-up call {call['id']} scheduled, due {call['due_at']} (priority {call['priority']})")

    tool = j.client.as_("call_centre_tool", "call-centre-tool")
    r = fb.post(f"/follow-up-calls/{call['id']}/claim", headers=tool, json={"agent": "agent-01"})
    if r.status_code == 409:
        j.step(f"S34 the tool's claim is refused until the call is due: {r.json()['detail']}")
    else:
        assert r.status_code == 200, r.text
        j.step(f"S34 agent-01 holds the call until {r.json()['lease_expires_at']}; released again")
        fb.post(f"/follow-up-calls/{call['id']}/release", headers=tool, json={"agent": "agent-01"})

    r = fb.post(f"/follow-up-calls/{call['id']}/survey-links", json={"agent": "agent-01"},
                headers={**tool, "Idempotency-Key": f"link-{call['id']}"})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    questionnaire = fb.get(f"/survey-links/{token}").json()
    scores = {"scale_1_5": 5, "nps_0_10": 9}
    answers = [{"question_id": q["id"], "value": scores.get(q["type"]) or q["choices"][0]["value"]}
               for q in questionnaire["questions"] if q["type"] != "free_text"]
    r = fb.post(f"/survey-links/{token}/answers", json={"answers": answers})
    assert r.status_code == 201, r.text
    j.step(f"S34 customer answered '{questionnaire['title_en']}' v{questionnaire['version']} through a one-time "
           f"link -> SurveyAnswered (CSAT {r.json()['csat']}, NPS score {r.json()['nps']})")
    assert fb.post(f"/survey-links/{token}/answers", json={"answers": answers}).status_code == 410
    j.step("S34 the same link again is refused (410: single use)")
    closed = fb.get(f"/follow-up-calls/{call['id']}", headers=agent).json()
    assert closed["status"] == "completed", closed
    j.step("S34 the customer answered, so nobody needs to phone: call completed -> FollowUpCallCompleted")

    r = fb.post(f"/follow-up-calls/{call['id']}/customer-information",
                headers={**tool, "Idempotency-Key": f"lead-{call['id']}"},
                json={"agent": "agent-01", "kind": "business_lead", "text": "Phase 2 of the substation next year"})
    assert r.status_code == 201, r.text
    j.step(f"S32 business lead routed to {r.json()['department']} -> CustomerInformationRouted")


EXPECTED_EVENTS = {"ServiceRequestReceived", "ServiceRequestAcknowledged", "ServiceDispatched", "EngineerArrived",
                   "IssueLogged", "ServiceCompleted", "FollowUpCallScheduled"}


def case_timeline(client: StackClient, case_id: str, headers: dict[str, str]) -> list[dict]:
    """Every entry of a case's timeline, oldest first, read page by page (it is keyset-paginated)."""
    entries: list[dict] = []
    params: dict[str, str | int] = {"limit": 200}
    while True:
        r = client.http["dispatch"].get(f"/cases/{case_id}/timeline", headers=headers, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        entries += page["items"]
        if not page["next_cursor"]:
            return entries
        params["cursor"] = page["next_cursor"]


def show_case_record(j: Journey) -> list[dict]:
    """The case record in dispatch: completed, with every event of every service on its timeline."""
    c, case_id = j.client, j.ids["case"]
    j.wait("dispatch to show the case completed", lambda: c.http["dispatch"].get(
        f"/cases/{case_id}", headers=j.dispatcher).json().get("status") == "completed")

    def full_timeline() -> list[dict] | None:
        entries = case_timeline(c, case_id, j.dispatcher)
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
    ports = ports_from_env()
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
