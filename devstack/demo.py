"""`make demo`: drive one case through the four services over HTTP and Kafka, to 34/34.

Prints each step and exits non-zero if an expected effect did not arrive in time or the case's
conformance view (S1-S34) ends with a step missing or in progress. Against a running `make run`
stack (ports 8001-8004) by default. The journey takes a team of one or two engineers; every time it
sends is a real instant (nothing in the future, each after its cause), and every "day" is the site's
calendar day at the moment of the request, so a journey running across a local midnight still
signs in, keeps its safety checklists and logs for each day on site.
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Literal, TypeVar

import httpx

from devstack.client import ConditionTimeout, StackClient, sample_request, wait_for
from devstack.stack import ports_from_env
from services.onsite.site_days import site_calendar

T = TypeVar("T")
IssuePath = Literal["closed_loop", "on_site"]
# The site's location for sign-in and sign-out (S10): Wuxi.
SITE_LOCATION = {"latitude": 31.49, "longitude": 120.31, "accuracy_m": 15}
ENGINEER_ROSTER = (("Chen Gang", 4), ("Zhao Lei", 3))


def _now() -> datetime:
    """A real instant: every time the journey sends is taken when it happens, never invented ahead."""
    return datetime.now(UTC)


@dataclass
class Journey:
    """What one case picked up on its way through the services.

    `team_size` engineers (1 or 2) work the case; the quality issue they log is either sent through the
    company's closed loop and closed (`closed_loop`: feedback then confirms the fix with the customer)
    or fixed on site with the customer's confirmation (`on_site`)."""

    client: StackClient
    timeout: float
    say: Callable[[str], None]
    team_size: int = 2
    issue_path: IssuePath = "closed_loop"
    started: float = field(default_factory=time.monotonic)
    reference: str = field(default_factory=lambda: f"CRM-{uuid.uuid4().hex[:10].upper()}")
    engineers: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    region: str = "east"
    # S10/S20 per engineer: the site day of arrival, the days signed in (and whether signed out), the days logged
    arrived_on: dict[str, date] = field(default_factory=dict)
    signed_in: dict[str, dict[date, bool]] = field(default_factory=dict)
    logged: dict[str, set[date]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.team_size <= len(ENGINEER_ROSTER):
            raise ValueError(f"a demo team has 1 to {len(ENGINEER_ROSTER)} engineers, not {self.team_size}")
        if not self.engineers:
            self.engineers = [f"eng-{uuid.uuid4().hex[:6]}" for _ in range(self.team_size)]
        self.team_size = len(self.engineers)

    def step(self, text: str) -> None:
        self.say(f"[{time.monotonic() - self.started:6.2f}s] {text}")

    @property
    def dispatcher(self) -> dict[str, str]:
        return self.client.as_("dispatcher", "disp-001")

    @property
    def team(self) -> range:
        return range(len(self.engineers))

    def engineer(self, index: int = 0) -> dict[str, str]:
        return self.client.as_("engineer", self.engineers[index])

    def wait(self, what: str, probe: Callable[[], T | None]) -> T:
        return wait_for(what, probe, self.timeout)

    def site_day(self, moment: datetime) -> date:
        """S10/S14/S20: the site's calendar day of an instant (its region's time zone), not UTC's."""
        return site_calendar().day(moment, self.region)

    @property
    def team_word(self) -> str:
        return {1: "the engineer", 2: "both engineers"}.get(len(self.engineers), "every engineer")


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


# Decision 0090: who the demo's messages go to (make run keeps the mails in .data/mail/)
DEMO_CUSTOMER_EMAIL = "zhang.min@jsgrid.example.cn"
DEMO_RECIPIENTS = (  # role, address, language (the customer's comes from the case: zh)
    ("dispatcher", "dispatch.{region}@company.example.com", "en"),
    ("regional_centre", "centre.{region}@company.example.com", "en"),
    ("department_head", "service.head@company.example.com", "zh"),
    ("service_department", "service.department@company.example.com", "zh"),
)


def register_recipients(j: Journey) -> None:
    """The staff directory of notifications for the demo's region (already there on a second run: 409)."""
    for role, address, language in DEMO_RECIPIENTS:
        r = j.client.http["dispatch"].post("/notification-recipients", headers=j.dispatcher, json={
            "role": role, "region": j.region, "name": f"{role.replace('_', ' ')} ({j.region})",
            "address": address.format(region=j.region), "language": language})
        assert r.status_code in (201, 409), r.text
    j.step(f"notification recipients of region {j.region}: " + ", ".join(role for role, _, _ in DEMO_RECIPIENTS))


def case_request(j: Journey) -> dict[str, Any]:
    """The CRM request: urgent, important work needs two engineers (S3's policy); a routine job one. The
    customer contact has an e-mail address and reads Chinese (notifications, decision 0090)."""
    request = sample_request(j.reference)
    request["contacts"]["customer_contact"]["email"] = DEMO_CUSTOMER_EMAIL
    request["customer_language"] = "zh"
    if len(j.engineers) == 1:
        request.update(urgency="medium", difficulty="medium", customer_importance="medium")
    return request


def prepare_and_dispatch(j: Journey) -> None:
    """Phase 1 (dispatch service): S1 intake, S2 conditions, S3 staffing, S4 plan, S5 pack, S6 preparation
    and the dispatch gate."""
    c = j.client
    http = c.http["dispatch"]
    r = c.crm_push(case_request(j))
    assert r.status_code == 201, r.text
    case_id = j.ids["case"] = r.json()["id"]
    j.region = r.json().get("region") or j.region
    j.step(f"S1 CRM request {j.reference} opened case {case_id}")
    again = c.crm_push(case_request(j))
    assert again.status_code == 200 and again.json()["id"] == case_id, again.text
    j.step("S1 the same CRM reference again returned the same case (200)")

    r = http.post(f"/cases/{case_id}/acknowledge", headers=j.dispatcher)
    assert r.status_code == 200, r.text
    j.step("S1 dispatcher acknowledged the case")

    refused = http.post(f"/cases/{case_id}/dispatch", headers=j.dispatcher)
    assert refused.status_code == 409, refused.text
    j.step(f"S6 dispatch refused, missing: {'; '.join(refused.json()['missing_conditions'])}")

    now = _now()
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
    for eid, (name, grade) in zip(j.engineers, ENGINEER_ROSTER, strict=False):
        r = http.post("/engineers", headers=j.dispatcher, json={
            "id": eid, "name": name, "grade": grade, "home_region": j.region,
            "skills": [{"equipment_type": "GIS-126kV", "level": 4}],
            "certificates": [{"type": "hv_live_work", "number": f"HV-{eid}", "expires_on": expiry}]})
        assert r.status_code == 201, r.text
    team = [{"engineer_id": j.engineers[0], "is_project_manager": True},
            *({"engineer_id": eid} for eid in j.engineers[1:])]
    start = _now()  # the team is booked from now: they travel at once
    r = http.post(f"/cases/{case_id}/assignment", headers=j.dispatcher, json={
        "engineers": team, "planned_start": start.isoformat(), "planned_end": (start + timedelta(days=5)).isoformat()})
    assert r.status_code == 200, r.text
    names = " and ".join(name for name, _grade in ENGINEER_ROSTER[:len(j.engineers)])
    j.step(f"S3 {names} assigned under the staffing policy, Chen Gang project manager -> EngineersAssigned")

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
# S14: what a refusal says when a task reaches a site day without its safety checklist.
NO_CHECKLIST = re.compile(r"S14: no safety checklist for (\d{4}-\d{2}-\d{2}|this task today)")


def _onsite_item_value(item: dict) -> dict:
    """A passing value for a check-sheet item (S13): inside the limits, with its unit."""
    if item["kind"] == "value":
        low, high = item.get("lower_limit"), item.get("upper_limit")
        value = (low + high) / 2 if low is not None and high is not None else (low if low is not None else high)
        return {"value": float(value if value is not None else 1.0), "unit": item.get("unit")}
    if item["kind"] == "photo":
        return {"value": item["text"][:200]}
    return {"value": True}


# ---------------------------------------------------------------- S10/S20: every day on site

def sign_in(j: Journey, who: int, at: datetime) -> None:
    """S10: sign in on the site day of `at` (once a day). A sign-in of an earlier day still open is signed
    out first: that shift ran past midnight, and the new day has its own sign-in."""
    days = j.signed_in.setdefault(j.engineers[who], {})
    if j.site_day(at) in days:
        return
    if not all(days.values()):
        sign_out(j, who, at)
    r = j.client.http["onsite"].post(f"/visits/{j.ids['visit']}/check-ins", headers=j.engineer(who),
                                     json={"at": at.isoformat(), **SITE_LOCATION})
    assert r.status_code == 201, r.text
    days[date.fromisoformat(r.json()["day"])] = False


def sign_out(j: Journey, who: int, at: datetime) -> None:
    """S10: sign out; it closes the sign-in of its site day, or the open one of the day before."""
    r = j.client.http["onsite"].post(f"/visits/{j.ids['visit']}/check-outs", headers=j.engineer(who),
                                     json={"at": at.isoformat(), **SITE_LOCATION})
    assert r.status_code == 200, r.text
    j.signed_in.setdefault(j.engineers[who], {})[date.fromisoformat(r.json()["day"])] = True


def keep_site_days(j: Journey) -> list[date]:
    """S10/S20 up to now: every engineer signed in on today's site day and sent a daily work log for each
    site day from their arrival to today. Returns the days logged now (none when all were logged)."""
    now = _now()
    today, sent = j.site_day(now), []
    for who in j.team:
        eng = j.engineers[who]
        sign_in(j, who, now)
        day = j.arrived_on[eng]
        while day <= today:
            if day not in j.logged.setdefault(eng, set()):
                r = j.client.http["onsite"].post(f"/visits/{j.ids['visit']}/daily-logs", headers=j.engineer(who),
                                                 json={"day": day.isoformat(), "progress": "on plan",
                                                       "work_done": "installation, gas filling and tests"})
                assert r.status_code == 201, r.text
                j.logged[eng].add(day)
                sent.append(day)
            day += timedelta(days=1)
    return sorted(set(sent))


# ---------------------------------------------------------------- phase 2: on site

def work_on_site(j: Journey) -> None:
    """Phase 2 (onsite service): visit opened from ServiceDispatched; S8 arrivals after the three calls,
    S10 sign-in, S9 briefing, S11 permit, S16 report to the customer, S14 safety and S13 every dispatched
    check-sheet item (S17 witness, S19 photo), a milestone with its photo, S20 daily logs."""
    c, case_id = j.client, j.ids["case"]
    onsite = c.http["onsite"]
    visit = j.wait("onsite to open the visit from ServiceDispatched", lambda: (
        onsite.get("/visits", params={"case_id": case_id}, headers=j.engineer()).json()["items"] or None))[0]
    vid = j.ids["visit"] = visit["id"]
    j.region = visit.get("region") or j.region
    j.step(f"onsite opened visit {vid} from ServiceDispatched")
    for who in j.team:
        calls = [{"party": p, "called_at": _now().isoformat(), "outcome": "reached"}  # S8: in order, on the way
                 for p in ("account_manager", "customer_contact", "site_interface")]
        arrived_at = _now()
        r = onsite.post(f"/visits/{vid}/arrivals", headers=j.engineer(who),
                        json={"arrived_at": arrived_at.isoformat(), "calls": calls})
        assert r.status_code == 201, r.text
        j.arrived_on[j.engineers[who]] = j.site_day(arrived_at)
        sign_in(j, who, arrived_at)  # S10: signed in on arrival, the same instant (the same site day)
    j.step(f"S8 {j.team_word} arrived after the three calls -> EngineerArrived; S10 signed in with location")
    j.wait("dispatch to show the case on site", lambda: c.http["dispatch"].get(
        f"/cases/{case_id}", headers=j.dispatcher).json().get("status") in ("on_site", "completed", "closed"))
    j.step("dispatch shows the case on site")

    r = onsite.post(f"/visits/{vid}/briefings", headers=j.engineer(), json={
        "held_at": _now().isoformat(), "content": "Installation and commissioning per the approved plan",
        "scope": "as dispatched", "risk_points": ["adjacent live equipment"], "disputed_points": [],
        "customer_attendees": ["Liu (site manager)", "Zhang Wei (customer test engineer)"]})
    assert r.status_code == 201, r.text
    now = _now()
    r = onsite.post(f"/visits/{vid}/permits", headers=j.engineer(), json={
        "number": "WP-DEMO-1", "issued_by": "customer site manager", "scope": ["all"],
        "valid_from": (now - timedelta(hours=1)).isoformat(), "valid_to": (now + timedelta(days=7)).isoformat()})
    assert r.status_code == 201, r.text
    j.step("S9 technical briefing held; S11 work permit recorded")
    r = onsite.post(f"/visits/{vid}/customer-reports", headers=j.engineer(), json={
        "summary": "Bays assembled; gas filling and tests today", "customer_opinion": "Satisfied with progress",
        "customer_agrees": True})
    assert r.status_code == 201, r.text
    j.step("S16 progress reported to the customer, who agrees -> CustomerReportSent")

    tasks = onsite.get(f"/visits/{vid}/tasks", headers=j.engineer()).json()
    for task in tasks:
        _work_task(j, vid, task)
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
    keep_site_days(j)
    j.step("S20 daily work logs submitted")


def _safety_checklist(j: Journey, base: str, day: date) -> None:
    """S14: the day's safety checklist of a task (PPE, helmet, insulated gloves and tools each with a valid
    test date, barriers and a safety watcher for the primary-equipment test)."""
    today = j.site_day(_now())
    r = j.client.http["onsite"].post(f"{base}/safety-checklists", headers=j.engineer(), json={
        "day": day.isoformat(), "ppe": True, "helmet": True, "insulated_gloves": True,
        "insulated_tools": True, "tools_test_valid_until": (today + timedelta(days=180)).isoformat(),
        "gloves_test_valid_until": (today + timedelta(days=90)).isoformat(),
        "barriers": True, "safety_watcher": "Li Ming"})
    assert r.status_code == 201, r.text


def _by_the_day(j: Journey, base: str, send: Callable[[], httpx.Response]) -> httpx.Response:
    """S14: a task continuing past the site's midnight needs the new day's checklist before anything more
    is recorded: on that refusal the engineer fills it in, then sends the request again."""
    r = send()
    if r.status_code == 409 and (missing := NO_CHECKLIST.search(r.text)):
        day = missing[1]
        _safety_checklist(j, base, date.fromisoformat(day) if day[0].isdigit() else j.site_day(_now()))
        r = send()
    return r


def _work_task(j: Journey, vid: str, task: dict) -> None:
    """One task by the ticket: S14 checklist, start, every item recorded, witnessed/photographed, signed off."""
    onsite, base = j.client.http["onsite"], f"/visits/{vid}/tasks/{task['id']}"
    eng = j.engineer()
    _safety_checklist(j, base, j.site_day(_now()))
    r = _by_the_day(j, base, lambda: onsite.post(f"{base}/start", headers=eng))
    assert r.status_code == 200, r.text
    for item in task["items"]:
        r = _by_the_day(j, base, partial(
            onsite.put, f"{base}/items/{item['item_id']}", headers=eng, json=_onsite_item_value(item)))
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
                                                           "signed_at": _now().isoformat()}})
            assert r.status_code == 201, r.text
        r = _by_the_day(j, base, partial(onsite.post, f"{base}/items/{item['item_id']}/sign-off", headers=eng))
        assert r.status_code == 200, r.text
    r = _by_the_day(j, base, lambda: onsite.post(f"{base}/completion", headers=eng))
    assert r.status_code == 200, r.text


QUALITY_UNIT, QUALITY_OWNER = "switchgear-quality", "qe-001"


def raise_quality_issue(j: Journey) -> None:
    """S25 (quality service): an issue logged on the case shows on the visit. On the `closed_loop` path a
    quality engineer escalates it into the company's closed loop (closed after the visit); on the
    `on_site` path the engineer fixes it on site and the customer confirms. Either way the onsite
    completion gate (no open, un-escalated on-site issue) lets the service complete."""
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
    if j.issue_path == "on_site":
        r = c.http["quality"].post(f"/issues/{issue['id']}/on-site-resolution", headers=j.engineer(), json={
            "resolution": "Density relay reseated and its seal replaced; reads 0.60 MPa on bay 2",
            "resolved_by": ENGINEER_ROSTER[0][0], "customer_confirmed_by": "Wang Fang"})
        assert r.status_code == 200, r.text
        j.step("S25 issue fixed on site, the customer confirmed -> IssueResolvedOnSite")
        return
    quality_engineer = c.as_("quality_engineer", QUALITY_OWNER, unit=QUALITY_UNIT)
    r = c.http["quality"].post(f"/issues/{issue['id']}/escalation", headers=quality_engineer,
                               json={"responsible_unit": QUALITY_UNIT, "owner": QUALITY_OWNER})
    assert r.status_code == 200, r.text
    j.step(f"S25 issue escalated to {QUALITY_UNIT} (owner {QUALITY_OWNER}, due "
           f"{r.json()['sla']['resolution']['due_at']}) -> IssueEscalated")


def complete_on_site(j: Journey) -> None:
    """S26-S30, S33 (onsite service): checks, clean-up, hand-over, drawings, the signed receipt, sign-outs
    and departures.

    The S30 gate needs the quality issue escalated or fixed on site (the quality phase). Right before the
    receipt every engineer has signed in and logged each site day (after S30 nobody can sign in)."""
    onsite, vid = j.client.http["onsite"], j.ids["visit"]
    for who in j.team:
        r = onsite.post(f"/visits/{vid}/checks", headers=j.engineer(who), json={})
        assert r.status_code == 201, r.text
    for who in j.team:  # each engineer's items cross-checked by the next one (a team of one needs none)
        checked = j.engineers[(who + 1) % len(j.engineers)]
        if checked != j.engineers[who]:
            r = onsite.post(f"/visits/{vid}/checks", headers=j.engineer(who), json={"engineer_id": checked})
            assert r.status_code == 201, r.text
    j.step("S26 self-checks" + (" and cross-checks" if len(j.engineers) > 1 else "") + " recorded")
    r = onsite.post(f"/visits/{vid}/cleanup", headers=j.engineer(),
                    json={"site_clean": True, "equipment_clean": True, "customer_confirmed_by": "Wang Fang"})
    assert r.status_code == 204, r.text
    r = onsite.post(f"/visits/{vid}/handovers", headers=j.engineer(), json={
        "items": [{"name": "spare fuses", "kind": "spare_part", "quantity": 6}], "received_by": "Wang Fang",
        "signature": {"kind": "typed", "typed_name": "Wang Fang", "signed_at": _now().isoformat()}})
    assert r.status_code == 201, r.text
    r = onsite.post(f"/visits/{vid}/no-drawing-deviations", headers=j.engineer())
    assert r.status_code == 204, r.text
    j.step("S27 clean-up confirmed; S28 hand-over signed; S29 no drawing deviations")
    j.wait("the completion gate to be clear (the quality issue escalated or fixed)", lambda: onsite.get(
        f"/visits/{vid}/completion-readiness", headers=j.engineer()).json()["missing_conditions"] == [])
    if later := [d for d in keep_site_days(j) if d > min(j.arrived_on.values())]:
        j.step(f"S10/S20 the work ran past the site's midnight: signed in and logged {', '.join(map(str, later))}")
    r = onsite.post(f"/visits/{vid}/completion", headers=j.engineer(), json={
        "work_done": "Installed and commissioned as planned", "operating_advice": "Check SF6 density monthly",
        "aspect_ratings": [{"aspect": "quality", "score": 5}, {"aspect": "timeliness", "score": 5}],
        "receipt_signed_by": "Wang Fang", "receipt_rating": 5,
        "receipt_signature": {"kind": "typed", "typed_name": "Wang Fang", "signed_at": _now().isoformat()}})
    assert r.status_code == 200, r.text
    j.step("S30 service receipt signed -> ServiceCompleted")
    pdf = onsite.get(f"/visits/{vid}/report.pdf", headers=j.dispatcher)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:200]
    j.step(f"S30 printable service report (Chinese/English): {len(pdf.content)} bytes of PDF")
    informed = _now()  # the regional centre and the department head told, then the team signs out and leaves
    for who in j.team:
        leaving = _now()
        if not all(j.signed_in.get(j.engineers[who], {}).values()):
            sign_out(j, who, leaving)
        r = onsite.post(f"/visits/{vid}/departures", headers=j.engineer(who), json={
            "departed_at": leaving.isoformat(), "regional_centre_informed_at": informed.isoformat(),
            "department_head_informed_at": informed.isoformat(), "site_manager_agreed_by": "Wang Fang"})
        assert r.status_code == 201, r.text
    j.step(f"S10/S33 {j.team_word} signed out with location and departed -> EngineerCheckedOut, "
           "EngineerDeparted; the visit is closed")


# ---------------------------------------------------------------- phase 3: feedback and the closed loop

def _call(j: Journey, reason: str) -> dict:
    """The case's follow-up call for `reason` (service_completed, issue_closed), once feedback scheduled it."""
    fb, agent = j.client.http["feedback"], j.client.as_("call_centre_agent", "agent-01")
    return j.wait(f"feedback to schedule the {reason} follow-up call", lambda: next((
        call for call in fb.get("/follow-up-calls", params={"case_id": j.ids["case"]}, headers=agent).json()["items"]
        if call["reason"] == reason), None))


def _answer_by_link(j: Journey, call: dict) -> dict:
    """S34: the call-centre tool sends the customer a one-time survey link; the answer completes the call
    (the customer was reached: nobody needs to phone)."""
    fb, tool = j.client.http["feedback"], j.client.as_("call_centre_tool", "call-centre-tool")
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
    done = fb.get(f"/follow-up-calls/{call['id']}", headers=j.client.as_("call_centre_agent", "agent-01")).json()
    assert done["status"] == "completed" and done["outcome"] == "reached", done
    return done


def follow_up(j: Journey) -> None:
    """S34 / S32 (feedback service): the completed service schedules the follow-up call; the call-centre
    tool claims it (refused until due, inside the calling window), sends the customer a one-time survey
    link whose answer completes the call, and routes a business lead heard on the call, which the
    region's service centre answers, telling the customer."""
    fb = j.client.http["feedback"]
    call = _call(j, "service_completed")
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
    _answer_by_link(j, call)
    j.step("S34 the same link again is refused (410: single use); the call completed, customer reached "
           "-> FollowUpCallCompleted")

    r = fb.post(f"/follow-up-calls/{call['id']}/customer-information",
                headers={**tool, "Idempotency-Key": f"lead-{call['id']}"},
                json={"agent": "agent-01", "kind": "business_lead", "text": "Phase 2 of the substation next year"})
    assert r.status_code == 201, r.text
    info = r.json()
    j.ids["information"] = info["id"]
    j.step(f"S32 business lead routed to {info['department']} -> CustomerInformationRouted")
    centre = j.client.as_("regional_centre", f"rc-{j.region}", region=j.region)
    r = fb.post(f"/customer-information/{info['id']}/answer", headers=centre, json={
        "answer": "Lead passed to East sales; a quotation for phase 2 follows",
        "customer_notification": {"channel": "phone", "notified_at": _now().isoformat(),
                                  "text": "Told the customer East sales will send a quotation for phase 2"}})
    assert r.status_code == 200, r.text
    j.step("S32 the regional service centre answered the lead and told the customer -> CustomerInformationAnswered")


def close_quality_loop(j: Journey) -> None:
    """S25 / S34 (quality, then feedback), the `closed_loop` path: the issue's owner records containment,
    root cause (five whys), corrective and preventive action and an effective verification, and closes
    it; the customer-visible closure schedules a fix-confirmation call, which ends with the customer
    reached."""
    if j.issue_path != "closed_loop":
        return
    quality, base = j.client.http["quality"], f"/issues/{j.ids['issue']}"
    owner = j.client.as_("quality_engineer", QUALITY_OWNER, unit=QUALITY_UNIT)
    for stage, body in (
        ("containment", {"action": "Bay 2 kept isolated; density read daily until the relay is replaced"}),
        ("root-cause", {"method": "five_whys", "root_cause": "The relay's flange seal was damaged in transport",
                        "whys": ["the relay reads low", "gas escapes at the relay flange", "its seal is cut",
                                 "the relay moved in its crate", "the crate has no brace for it"]}),
        ("corrective-action", {"action": "Seal replaced and the relay re-tested on bay 2", "owner": QUALITY_OWNER}),
        ("preventive-action", {"action": "Transport brace added to the relay crate design", "owner": QUALITY_OWNER}),
        ("verification", {"evidence": "Density steady at 0.60 MPa on every bay after replacement",
                          "effective": True}),
    ):
        r = quality.post(f"{base}/{stage}", headers=owner, json=body)
        assert r.status_code == 200, f"{stage}: {r.text}"
    r = quality.post(f"{base}/closure", headers=owner, json={"summary": "Fixed; crate design changed"})
    assert r.status_code == 200, r.text
    j.step("S25 closed loop: containment, root cause, corrective and preventive action, verified -> IssueClosed")
    call = _call(j, "issue_closed")
    j.ids["fix_call"] = call["id"]
    j.step(f"S34 fix-confirmation call {call['id']} scheduled for the customer-visible issue")
    _answer_by_link(j, call)
    j.step("S34 the customer confirmed the fix -> FollowUpCallCompleted")


# ---------------------------------------------------------------- the case record and its conformance

EXPECTED_EVENTS = {"ServiceRequestReceived", "ServiceRequestAcknowledged", "ServiceDispatched", "EngineerArrived",
                   "IssueLogged", "ServiceCompleted", "FollowUpCallScheduled", "CustomerInformationAnswered"}
CONFORMING = ("done", "not_applicable")


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
    """The case record in dispatch: closed (decision 0075: the journey leaves no duty open), with every
    event of every service on its timeline."""
    c, case_id = j.client, j.ids["case"]
    j.wait("dispatch to show the case closed", lambda: c.http["dispatch"].get(
        f"/cases/{case_id}", headers=j.dispatcher).json().get("status") == "closed")
    j.step("dispatch closed the case: no duty of the standard left open -> CaseClosed")

    def full_timeline() -> list[dict] | None:
        entries = case_timeline(c, case_id, j.dispatcher)
        return entries if {e["event_type"] for e in entries} >= EXPECTED_EVENTS else None

    timeline = j.wait("the timeline to hold every event of the slice", full_timeline)
    j.step("dispatch's case timeline:")
    for entry in timeline:
        j.say(f"          {entry['occurred_at']}  {entry['source']:<22} {entry['event_type']}")
    return timeline


def case_conformance(client: StackClient, case_id: str, headers: dict[str, str]) -> dict:
    """GET /cases/{id}/conformance: S1-S34, each done / in progress / missing / not applicable."""
    r = client.http["dispatch"].get(f"/cases/{case_id}/conformance", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def non_conforming(conformance: dict) -> list[dict]:
    """The steps neither done nor not applicable (missing or in progress)."""
    return [s for s in conformance["steps"] if s["status"] not in CONFORMING]


def describe_steps(steps: list[dict]) -> str:
    """One line per step: its status, title and findings (what the view says is not done)."""
    return "\n".join(f"  {s['step']} {s['status']}: {s['title']}"
                     + "".join(f"\n      - {f['detail']}" for f in s.get("findings") or []) for s in steps)


def settled_conformance(client: StackClient, case_id: str, headers: dict[str, str], timeout: float) -> dict:
    """The case's conformance once every step is done or not applicable, or as it stands at the deadline
    (events arrive from four topics: the view may need a moment to see the last ones)."""
    try:
        return wait_for("every step of the standard done or not applicable", lambda: (
            None if non_conforming(conf := case_conformance(client, case_id, headers)) else conf), timeout)
    except ConditionTimeout:
        return case_conformance(client, case_id, headers)


def show_conformance(j: Journey) -> dict:
    """The case's conformance with the standard (S1-S34), printed step by step."""
    conformance = settled_conformance(j.client, j.ids["case"], j.dispatcher, j.timeout)
    j.step("the case's conformance with the standard:")
    for s in conformance["steps"]:
        j.say(f"          {s['step']:<4} {s['status']:<15} {s['title']}"
              + (f"  ({len(s['findings'])} finding(s))" if s.get("findings") else ""))
    summary = conformance["summary"]
    j.step(f"{summary['done']} done, {summary['not_applicable']} not applicable, {summary['in_progress']} in "
           f"progress, {summary['missing']} missing ({summary['findings']} finding(s))")
    return conformance


def case_notifications(client: StackClient, case_id: str, headers: dict[str, str]) -> list[dict]:
    r = client.http["dispatch"].get("/notifications", headers=headers, params={"case_id": case_id, "limit": 200})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def show_notifications(j: Journey) -> list[dict]:
    """The messages the case's events sent to people (decision 0090): the customer (zh), the dispatcher and
    the regional centre (en) at least; a customer's message outside 08:00-20:00 site time waits queued."""
    def told() -> list[dict] | None:
        rows = case_notifications(j.client, j.ids["case"], j.dispatcher)
        sent = {r["audience"] for r in rows if r["status"] == "sent"}
        waiting = {r["audience"] for r in rows if r["status"] == "queued"
                   and datetime.fromisoformat(r["next_attempt_at"]) > _now()}
        return rows if {"dispatcher", "regional_centre"} <= sent and "customer" in sent | waiting else None

    rows = j.wait("the customer, the dispatcher and the regional centre told", told)
    j.step(f"notifications of the case: {len(rows)} message(s)")
    for r in rows:
        j.say(f"          {r['status']:<9} {r['audience']:<18} {r['language']} {r['address']:<40} {r['subject']}")
    return rows


def run_slice(client: StackClient, *, timeout: float, say: Callable[[str], None] = print, engineers: int = 2,
              issue_path: IssuePath = "closed_loop") -> dict[str, Any]:
    """One case through all four services, over HTTP and Kafka, with a team of `engineers` (1 or 2):
    every duty of the standard done, so the case closes; returns its ids, timeline and conformance."""
    j = Journey(client, timeout, say, team_size=engineers, issue_path=issue_path)
    for phase in (register_recipients, prepare_and_dispatch, work_on_site, raise_quality_issue, complete_on_site,
                  follow_up, close_quality_loop):
        phase(j)
    timeline = show_case_record(j)
    conformance = show_conformance(j)
    notifications = show_notifications(j)
    return {"case_id": j.ids["case"], "visit_id": j.ids["visit"], "issue_id": j.ids["issue"],
            "call_id": j.ids["call"], "engineers": list(j.engineers), "timeline": timeline,
            "conformance": conformance, "notifications": notifications}


def main() -> int:
    ports = ports_from_env()
    timeout = float(os.environ.get("DEMO_TIMEOUT", "180"))
    client = StackClient(ports)
    try:
        result = run_slice(client, timeout=timeout)
    except (ConditionTimeout, AssertionError) as exc:
        print(f"DEMO FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if open_steps := non_conforming(result["conformance"]):
        print(f"DEMO FAILED: case {result['case_id']} has steps of the standard not done:\n"
              f"{describe_steps(open_steps)}", file=sys.stderr)
        return 1
    print(f"demo passed: every expected event arrived; case {result['case_id']} is closed with every step of "
          "the standard done or not applicable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
