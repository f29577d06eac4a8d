"""`make demo`: drive one case through the four services over HTTP and Kafka.

Prints each step and exits non-zero if an expected effect did not arrive in time. Against a
running `make run` stack (ports 8001-8004) by default.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from devstack.client import ConditionTimeout, StackClient, sample_request, wait_for
from devstack.stack import SERVICES


def run_slice(client: StackClient, *, timeout: float, say=print) -> dict[str, object]:
    """The foundation slice: CRM -> dispatch -> onsite -> quality -> onsite -> feedback."""
    started = time.monotonic()

    def step(text: str) -> None:
        say(f"[{time.monotonic() - started:6.2f}s] {text}")

    reference = f"CRM-{uuid.uuid4().hex[:10].upper()}"
    dispatcher = client.as_("dispatcher", "disp-001")
    eng_a, eng_b = "eng-a-" + uuid.uuid4().hex[:6], "eng-b-" + uuid.uuid4().hex[:6]

    r = client.crm_push(sample_request(reference))
    assert r.status_code == 201, r.text
    case = r.json()
    case_id = case["id"]
    step(f"S1 CRM request {reference} opened case {case_id}")
    again = client.crm_push(sample_request(reference))
    assert again.status_code == 200 and again.json()["id"] == case_id, again.text
    step("S1 the same CRM reference again returned the same case (200)")

    r = client.http["dispatch"].post(f"/cases/{case_id}/acknowledge", headers=dispatcher)
    assert r.status_code == 200, r.text
    step("S1 dispatcher acknowledged the case")

    now = datetime.now(UTC)
    team = [
        {"engineer_id": eng_a, "name": "Chen Gang", "grade": 4, "is_project_manager": True},
        {"engineer_id": eng_b, "name": "Zhao Lei", "grade": 3},
    ]
    r = client.http["dispatch"].post(f"/cases/{case_id}/dispatch", headers=dispatcher, json={
        "team": team, "planned_start": (now + timedelta(days=1)).isoformat(),
        "planned_end": (now + timedelta(days=5)).isoformat()})
    assert r.status_code == 200, r.text
    step("S6 case dispatched with a team of two (project manager named)")

    as_a = client.as_("engineer", eng_a)
    visit = wait_for("onsite to open the visit from ServiceDispatched", lambda: (
        client.http["onsite"].get("/visits", params={"case_id": case_id}, headers=as_a).json() or None
    ), timeout)[0]
    step(f"onsite opened visit {visit['id']} from ServiceDispatched")

    calls = [
        {"party": p, "called_at": (now + timedelta(minutes=i)).isoformat(), "outcome": "reached"}
        for i, p in enumerate(["account_manager", "customer_contact", "site_interface"])
    ]
    r = client.http["onsite"].post(f"/visits/{visit['id']}/arrivals", headers=as_a,
                                   json={"arrived_at": (now + timedelta(minutes=5)).isoformat(), "calls": calls})
    assert r.status_code == 201, r.text
    step("S8 engineer arrived after the three calls -> EngineerArrived")
    wait_for("dispatch to show the case on site", lambda: client.http["dispatch"].get(
        f"/cases/{case_id}", headers=dispatcher).json().get("status") in ("on_site", "completed"), timeout)
    step("dispatch shows the case on site")

    issue_body = {"case_id": case_id, "visit_id": visit["id"], "product": "GIS bay", "model": "ZF11-126",
                  "serial_number": "SN-0001", "failure_mode": "gas-leak", "severity": "major",
                  "description": "SF6 density relay reads low on bay 2"}
    issue = wait_for("quality to accept the issue (it learns the team from ServiceDispatched)", lambda: (
        (resp := client.http["quality"].post("/issues", headers=as_a, json=issue_body)).status_code == 201
        and resp.json()), timeout)
    step(f"S25 quality issue {issue['id']} logged -> IssueLogged")
    wait_for("onsite to show the issue on the visit", lambda: any(
        i["issue_id"] == issue["id"] for i in client.http["onsite"].get(
            f"/visits/{visit['id']}", headers=as_a).json().get("quality_issues", [])), timeout)
    step("onsite shows the quality issue on the visit")

    r = client.http["onsite"].post(f"/visits/{visit['id']}/completion", headers=as_a,
                                   json={"receipt_signed_by": "Wang Fang", "receipt_rating": 5})
    assert r.status_code == 200, r.text
    step("S30 service receipt signed -> ServiceCompleted")
    agent = client.as_("call_centre_agent", "agent-01")
    call = wait_for("feedback to schedule the follow-up call", lambda: (
        client.http["feedback"].get("/follow-up-calls", params={"case_id": case_id}, headers=agent).json() or None
    ), timeout)[0]
    step(f"S34 follow-up call {call['id']} scheduled, due {call['due_at']}")
    wait_for("dispatch to show the case completed", lambda: client.http["dispatch"].get(
        f"/cases/{case_id}", headers=dispatcher).json().get("status") == "completed", timeout)
    expected = {"ServiceRequestReceived", "ServiceRequestAcknowledged", "ServiceDispatched", "EngineerArrived",
                "IssueLogged", "ServiceCompleted", "FollowUpCallScheduled"}

    def full_timeline() -> list[dict] | None:
        entries = client.http["dispatch"].get(f"/cases/{case_id}/timeline", headers=dispatcher).json()
        return entries if expected <= {e["event_type"] for e in entries} else None

    timeline = wait_for("the timeline to hold every event of the slice", full_timeline, timeout)
    step("dispatch's case timeline:")
    for entry in timeline:
        say(f"          {entry['occurred_at']}  {entry['source']:<22} {entry['event_type']}")
    return {"case_id": case_id, "visit_id": visit["id"], "issue_id": issue["id"], "call_id": call["id"],
            "timeline": timeline}


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
