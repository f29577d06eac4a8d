"""A visit with two engineers from a published ServiceDispatched to the last EngineerDeparted, over HTTP and Kafka:
a failed measurement, a witness, evidence with its hash checked, a quality issue, a cross-check, the PDF report."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.events import EventEnvelope
from shared.events.quality import IssueEscalated, IssueLogged
from tests.integration.conftest import bearer, producer, read_topic, running_app, wait_async
from tests.integration.onsite.conftest import NOW, PNG, Site, dispatched

pytestmark = pytest.mark.integration


def quality(payload, case_id: str) -> bytes:
    return EventEnvelope.wrap(payload, source="/fieldservice/quality", subject=case_id, actor="qe-1").to_bytes()


async def test_a_two_engineer_visit_from_dispatch_to_the_last_departure(env, tmp_path):
    engineers = [f"eng-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    envelope = dispatched(engineers)
    case_id = envelope.subject
    async with running_app(env, "onsite", evidence_dir=str(tmp_path)) as (_app, client), producer(env) as kafka:
        await kafka.send_and_wait("dispatch.events", envelope.to_bytes(), key=case_id.encode())

        async def visit() -> list:
            r = await client.get("/visits", params={"case_id": case_id}, headers=bearer(env, "engineer", engineers[1]))
            return r.json()["items"]

        site = Site(env, client, (await wait_async("the visit to open from ServiceDispatched", visit))[0]["id"],
                    engineers, case_id)
        for i in (0, 1):
            await site.arrive(i)
        tasks = await site.tasks()
        hv, mount = tasks["cs-hv"], tasks["cs-mount"]
        await site.brief(disputed=["cable trench depth"])
        await site.permit(["cs-hv", "cs-mount"])
        assert (await site.safe(hv["id"], who=0)).status_code == 201
        assert (await site.safe(mount["id"], who=1, insulated_gloves=False, barriers=False)).status_code == 201
        assert (await site.post(f"/tasks/{hv['id']}/start", who=0)).status_code == 200
        assert (await site.post(f"/tasks/{mount['id']}/start", who=1)).status_code == 200

        # Engineer 0: a failed measurement, re-measured, witnessed by the customer, signed off.
        failed = await site.put(f"/tasks/{hv['id']}/items/r1", {"value": 142.0, "unit": "µΩ"}, who=0)
        assert failed.json()["passed"] is False
        entry = (await site.put(f"/tasks/{hv['id']}/items/r1", {"value": 96.0, "unit": "µΩ"}, who=0)).json()
        assert (await site.post(f"/tasks/{hv['id']}/items/r1/sign-off", who=0)).status_code == 409
        assert (await site.witness("process_data", entry["id"])).status_code == 201
        assert (await site.post(f"/tasks/{hv['id']}/items/r1/sign-off", who=0)).status_code == 200
        await site.put(f"/tasks/{hv['id']}/items/y1", {"value": True}, who=0)
        await site.post(f"/tasks/{hv['id']}/items/y1/sign-off", who=0)
        assert (await site.post(f"/tasks/{hv['id']}/completion", who=0)).status_code == 200

        # Engineer 1: the photo item with its evidence, checked by hash on download.
        photo = (await site.put(f"/tasks/{mount['id']}/items/p1", {"value": "nameplate bay 1"}, who=1)).json()
        r = await site.post(f"/tasks/{mount['id']}/items/p1/sign-off", who=1)
        assert r.json()["missing_conditions"] == ["S19: item p1 needs a photo before sign-off"]
        evidence = (await site.upload("process_data", photo["id"], who=1)).json()
        assert evidence["sha256"] == hashlib.sha256(PNG).hexdigest()
        download = await site.get(f"/evidence/{evidence['id']}/content", who=0)
        assert hashlib.sha256(download.content).hexdigest() == evidence["sha256"]
        assert (await site.post(f"/tasks/{mount['id']}/items/p1/sign-off", who=1)).status_code == 200
        assert (await site.post(f"/tasks/{mount['id']}/completion", who=1)).status_code == 200

        # A quality issue logged and escalated by the quality service blocks nothing once escalated.
        issue_id = uuid.uuid4()
        await kafka.send_and_wait("quality.events", quality(IssueLogged(
            issue_id=issue_id, case_id=uuid.UUID(case_id), product="GIS", failure_mode="gas-leak", severity="major",
            description="SF6 density low on bay 2", logged_by=engineers[0]), case_id), key=case_id.encode())

        async def issue_shown() -> bool:
            return any(i["issue_id"] == str(issue_id) for i in (await site.get()).json()["quality_issues"])

        await wait_async("the issue to show on the visit", issue_shown)
        blocking = f"S25: quality issue {issue_id} is still open on site and not escalated"
        assert blocking in (await site.get("/completion-readiness")).json()["missing_conditions"]
        await kafka.send_and_wait("quality.events", quality(IssueEscalated(
            issue_id=issue_id, case_id=uuid.UUID(case_id), responsible_unit="GIS works", owner="q-1",
            due_at=NOW + timedelta(days=3)), case_id), key=case_id.encode())

        async def escalated() -> bool:
            return (await site.get()).json()["quality_issues"][0]["escalated"]

        await wait_async("the visit to see the issue escalated", escalated)

        # S26 self- and cross-checks, S27-S29, S30 sign-off, the PDF, S33 departures.
        for who in (0, 1):
            assert (await site.post("/checks", {}, who=who)).status_code == 201
        assert (await site.post("/checks", {"engineer_id": engineers[1]}, who=0)).status_code == 201
        assert (await site.post("/checks", {"engineer_id": engineers[0]}, who=1)).status_code == 201
        await site.post("/cleanup", {"site_clean": True, "equipment_clean": True, "customer_confirmed_by": "Liu"})
        await site.post("/handovers", {"items": [{"name": "spare fuse", "kind": "spare_part", "quantity": 6}],
                                       "received_by": "Liu", "signature": {
                                           "kind": "typed", "typed_name": "Liu", "signed_at": NOW.isoformat()}})
        await site.post("/no-drawing-deviations")
        assert (await site.get("/completion-readiness")).json()["missing_conditions"] == []
        r = await site.post("/completion", {"receipt_signed_by": "Wang Fang", "receipt_rating": 5,
                                            "aspect_ratings": [{"aspect": "overall", "score": 5}]}, who=0)
        assert r.status_code == 200, r.text
        pdf = await site.get("/report.pdf", who="disp-1", role="dispatcher")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        now = datetime.now(UTC).isoformat()  # after the arrival and the signed receipt (S33)
        leave = {"departed_at": now, "regional_centre_informed_at": now, "department_head_informed_at": now,
                 "site_manager_agreed_by": "Liu"}
        for who in (0, 1):
            assert (await site.post("/departures", leave, who=who)).status_code == 201

        def closed(messages) -> bool:
            return any(e["type"] == "EngineerDeparted" and e["data"]["visit_closed"] for e in ours(messages))

        def ours(messages) -> list[dict]:
            decoded = (json.loads(m.value) for m in messages)
            return [e for e in decoded if e.get("subject") == case_id]

        events = ours(await read_topic(env, "onsite.events", stop_when=closed))
        types = [e["type"] for e in events]
        for expected in ("EngineerArrived", "TechnicalBriefingHeld", "PermitRecorded", "SafetyCheckCompleted",
                         "TaskStarted", "ProcessDataRecorded", "WitnessRecorded", "EvidenceAttached",
                         "SelfCheckCompleted", "CrossCheckCompleted", "CleanupConfirmed", "HandoverCompleted",
                         "ServiceCompleted", "EngineerDeparted"):
            assert expected in types, expected
        measured = [e["data"]["passed"] for e in events if e["type"] == "ProcessDataRecorded"
                    and e["data"]["item_id"] == "r1"]
        assert measured == [False, True]
        assert types.count("ServiceCompleted") == 1
        assert types.index("ServiceCompleted") < types.index("EngineerDeparted")
        final = (await site.get()).json()
        assert final["status"] == "completed" and final["closed_at"] is not None
