"""Personal data across the four service processes (decision 0093): one request to dispatch exports what all
four hold about a customer contact and an engineer, one request erases the engineer everywhere (the records of
the standard stay, the person is a pseudonym), and repeating it changes nothing."""

from __future__ import annotations

import pytest

from devstack.demo import DEMO_CUSTOMER_EMAIL, run_slice

pytestmark = pytest.mark.e2e


def test_one_request_exports_and_erases_across_the_four_services(stack, client):
    result = run_slice(client, timeout=60, say=lambda _line: None)
    dispatch, officer = client.http["dispatch"], client.as_("privacy_officer", "dpo-e2e")
    engineer = result["engineers"][0]

    # the customer contact: dispatch finds the address, the others what goes with it on the case
    r = dispatch.post("/personal-data/exports", headers=officer,
                      json={"subject_kind": "customer_contact", "subject": DEMO_CUSTOMER_EMAIL})
    assert r.status_code == 200, r.text
    services = r.json()["services"]
    assert set(services) == {"dispatch", "onsite", "quality", "feedback"}
    held = {name: {f"{f['table']}.{f['column']}" for f in export["fields"]} for name, export in services.items()}
    assert {"service_case.contacts", "case_event.data"} <= held["dispatch"]
    assert "site_visit.contacts" in held["onsite"]
    assert result["case_id"] in services["onsite"]["cases"]

    # the engineer: their traces in all four
    r = dispatch.post("/personal-data/exports", headers=officer,
                      json={"subject_kind": "engineer", "subject": engineer})
    assert r.status_code == 200, r.text
    held = {name: {f"{f['table']}.{f['column']}" for f in export["fields"]} for name, export in r.json()[
        "services"].items()}
    assert {"engineer.name", "case_event.actor"} <= held["dispatch"]
    assert {"daily_presence.engineer_id", "daily_presence.in_latitude"} <= held["onsite"]
    assert "quality_issue.logged_by" in held["quality"] or "issue_journal_entry.by" in held["quality"]
    assert "follow_up_call.engineer_ids" in held["feedback"]

    # one request erases them everywhere, under one pseudonym
    body = {"subject_kind": "engineer", "subject": engineer}
    r = dispatch.post("/personal-data/erasure-requests", headers=officer, json=body)
    assert r.status_code == 200, r.text
    alias = r.json()["pseudonym"]
    assert {s["pseudonym"] for s in r.json()["services"].values()} == {alias}
    assert all(s["changed_now"] > 0 for s in r.json()["services"].values()), r.json()
    case = dispatch.get(f"/cases/{result['case_id']}", headers=client.as_("dispatcher", "disp-e2e")).json()
    assert engineer not in str(case["team"]) and case["status"] == "closed"
    presence = client.http["onsite"].get(f"/visits/{result['visit_id']}/presence",
                                         headers=client.as_("dispatcher", "disp-e2e")).json()["items"]
    mine = [p for p in presence if p["engineer_id"] == alias]
    assert mine and all(p["in_latitude"] is None and p["checked_in_at"] for p in mine)
    issue = client.http["quality"].get(f"/issues/{result['issue_id']}",
                                       headers=client.as_("quality_engineer", "qe-e2e")).json()
    assert engineer not in str(issue)

    # repeated: the same pseudonym, nothing more to change
    again = dispatch.post("/personal-data/erasure-requests", headers=officer, json=body)
    assert again.status_code == 200, again.text
    assert {s["changed_now"] for s in again.json()["services"].values()} == {0}
    r = dispatch.post("/personal-data/exports", headers=officer, json=body)
    assert all(export["fields"] == [] for export in r.json()["services"].values()), r.json()
