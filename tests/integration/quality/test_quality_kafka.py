"""Quality over HTTP and Kafka: the full loop with a template revision seen by dispatch, the on-site path,
complaints from feedback, repair orders from onsite, and SLA breaches with a controllable clock."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.quality.issues.models import QualityIssue
from services.quality.reports.service import past_sla
from services.quality.sla.service import run_sla_check
from shared.events import EventEnvelope
from shared.events.dispatch import SpecificationTemplateRevised
from shared.events.feedback import ComplaintRaised
from shared.events.onsite import RepairRequested
from shared.messaging.tables import ProcessedEvent
from tests.integration.conftest import producer, read_topic, running_app, wait_async
from tests.integration.quality.conftest import (
    LOOP_STEPS,
    dispatched,
    engineer,
    envelope,
    escalate,
    log_issue,
    quality_engineer,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def quality(env, tmp_path_factory):
    async with running_app(env, "quality", evidence_dir=str(tmp_path_factory.mktemp("evidence"))) as (app, client):
        yield app, client


async def publish(env, topic: str, *envelopes: EventEnvelope) -> None:
    async with producer(env) as p:
        for e in envelopes:
            await p.send_and_wait(topic, e.to_bytes(), key=e.subject.encode())


def events_of(messages: list, key: str, value: str) -> dict[str, dict]:
    """The quality events whose payload has `key` == `value`, by type (the last one of each type)."""
    found: dict[str, dict] = {}
    for m in messages:
        e = EventEnvelope.from_bytes(m.value)
        if str(e.data.get(key)) == value:
            found[e.type] = e.data
    return found


async def dispatched_case(env, client, engineers: list[str]) -> uuid.UUID:
    """Publish ServiceDispatched and wait until quality lets the team log issues."""
    case_id = uuid.uuid4()
    await publish(env, "dispatch.events", envelope(dispatched(case_id, engineers), "dispatch", case_id, "disp-1"))

    async def accepted():
        r = await client.get("/issues", params={"case_id": str(case_id)}, headers=engineer(env, engineers[0]))
        return r.status_code == 200
    await wait_async("quality to learn the team from ServiceDispatched", accepted)
    return case_id


async def test_the_full_loop_over_http_and_kafka(env, quality):
    app, c = quality
    case_id = await dispatched_case(env, c, ["eng-k1"])
    issue = await log_issue(c, env, case_id, "eng-k1")
    iid, owner = issue["id"], quality_engineer(env)
    await escalate(c, env, iid)
    for path, body in LOOP_STEPS[:4]:
        assert (await c.post(f"/issues/{iid}/{path}", headers=owner, json=body)).status_code == 200

    seen = await read_topic(env, "quality.events", stop_when=lambda ms: "PreventiveActionDefined" in events_of(
        ms, "issue_id", iid))
    asked = events_of(seen, "issue_id", iid)["PreventiveActionDefined"]
    assert (asked["template_id"], asked["equipment_type"]) == ("GIS-commissioning", "GIS")

    # Dispatch revises the template and says so; quality shows when it landed (once, however often it arrives).
    revised = SpecificationTemplateRevised(template_id="GIS-commissioning", version=4, equipment_type="GIS",
                                           revised_by="disp-7", issue_id=uuid.UUID(iid), case_id=case_id)
    deliveries = [envelope(revised, "dispatch", case_id, "disp-7") for _ in range(2)]
    await publish(env, "dispatch.events", *deliveries)

    async def landed():
        shown = (await c.get(f"/issues/{iid}", headers=owner)).json()
        return shown["template_revision"]
    revision = await wait_async("the template revision to land on the issue", landed)
    assert revision["version"] == 4 and revision["revised_by"] == "disp-7" and revision["landed_at"]
    await wait_async("both deliveries to be processed", lambda: _processed(app, [d.id for d in deliveries]))
    kinds = [e["kind"] for e in (await c.get(f"/issues/{iid}/history", headers=owner)).json()]
    assert kinds.count("template_revision_landed") == 1
    # A later revision that names no issue still reaches every issue that asked for this template.
    later = SpecificationTemplateRevised(template_id="GIS-commissioning", version=5, equipment_type="GIS",
                                         revised_by="disp-8")
    await publish(env, "dispatch.events", envelope(later, "dispatch", case_id, "disp-8"))

    async def version_5():
        return (await c.get(f"/issues/{iid}", headers=owner)).json()["template_revision"]["version"] == 5
    await wait_async("the unnamed revision to land on the issue", version_5)

    verified = await c.post(f"/issues/{iid}/verification", headers=owner, json=LOOP_STEPS[4][1])
    assert verified.status_code == 200
    assert (await c.post(f"/issues/{iid}/closure", headers=owner, json={})).status_code == 200
    assert (await c.post(f"/issues/{iid}/reopening", headers=owner,
                         json={"reason": "leak came back"})).status_code == 200

    expected = {"IssueLogged", "IssueEscalated", "IssueContained", "RootCauseIdentified", "CorrectiveActionDefined",
                "PreventiveActionDefined", "IssueVerified", "IssueClosed", "IssueReopened"}
    seen = await read_topic(env, "quality.events", stop_when=lambda ms: expected <= set(events_of(ms, "issue_id", iid)))
    facts = events_of(seen, "issue_id", iid)
    assert facts["IssueEscalated"]["owner"] == "qe-owner"
    assert facts["RootCauseIdentified"]["method"] == "five_whys"
    closed = facts["IssueClosed"]
    assert closed["customer_visible"] is True and closed["customer_name"] == "Jiangsu Grid"
    assert facts["IssueReopened"]["reason"] == "leak came back"


async def _processed(app, event_ids: list[uuid.UUID]) -> bool:
    async with app.state.sessions() as s:
        done = (await s.execute(select(func.count()).select_from(ProcessedEvent)
                                .where(ProcessedEvent.event_id.in_(event_ids)))).scalar_one()
    return done == len(event_ids)


async def test_the_on_site_path_over_kafka(env, quality):
    _app, c = quality
    case_id = await dispatched_case(env, c, ["eng-k2"])
    issue = await log_issue(c, env, case_id, "eng-k2", severity="minor")
    r = await c.post(f"/issues/{issue['id']}/on-site-resolution", headers=engineer(env, "eng-k2"), json={
        "resolution": "loose terminal tightened", "resolved_by": "Zhao Lei", "customer_confirmed_by": "Wang Fang"})
    assert r.status_code == 200
    seen = await read_topic(env, "quality.events", stop_when=lambda ms: "IssueResolvedOnSite" in events_of(
        ms, "issue_id", issue["id"]))
    fact = events_of(seen, "issue_id", issue["id"])["IssueResolvedOnSite"]
    assert (fact["resolved_by"], fact["customer_confirmed_by"]) == ("Zhao Lei", "Wang Fang")


async def test_a_complaint_from_feedback_becomes_an_issue_once(env, quality):
    _app, c = quality
    case_id, complaint_id = uuid.uuid4(), uuid.uuid4()
    complaint = ComplaintRaised(complaint_id=complaint_id, case_id=case_id, text="the bay still hisses",
                                score=1, product="GIS bay", raised_by="agent-01")
    await publish(env, "feedback.events", *(envelope(complaint, "feedback", case_id, "agent-01") for _ in range(2)))

    async def complaint_issues():
        r = await c.get("/issues", params={"case_id": str(case_id), "source": "complaint"},
                        headers=quality_engineer(env))
        return r.json()["items"]
    items = await wait_async("the complaint to become an issue", complaint_issues)
    assert len(items) == 1
    issue = items[0]
    assert (issue["source"], issue["complaint_id"], issue["failure_mode"]) == (
        "complaint", str(complaint_id), "customer-complaint")
    assert issue["severity"] == "major" and issue["description"] == "the bay still hisses"
    seen = await read_topic(env, "quality.events", stop_when=lambda ms: "IssueLogged" in events_of(
        ms, "issue_id", issue["id"]))
    logged = events_of(seen, "issue_id", issue["id"])["IssueLogged"]
    assert (logged["source"], logged["complaint_id"]) == ("complaint", str(complaint_id))
    await escalate(c, env, issue["id"])
    assert len(await complaint_issues()) == 1


async def test_repair_orders_from_onsite_and_their_status_changes(env, quality):
    _app, c = quality
    case_id, receipt = uuid.uuid4(), f"RC-{uuid.uuid4().hex[:8]}"
    requested = RepairRequested(case_id=case_id, visit_id=uuid.uuid4(), repair_request_id=uuid.uuid4(),
                                receipt_number=receipt, equipment="SF6 density relay", serial_number="DR-9",
                                fault="reads low", customer_name="Jiangsu Grid")
    await publish(env, "onsite.events", *(envelope(requested, "onsite", case_id, "eng-1") for _ in range(2)))
    desk = quality_engineer(env, "repair-desk")

    async def orders():
        r = await c.get("/repair-orders", params={"receipt_number": receipt}, headers=desk)
        return r.json()["items"]
    found = await wait_async("the repair order from RepairRequested", orders)
    assert len(found) == 1 and found[0]["status"] == "received"
    order_id = found[0]["id"]

    skip = await c.post(f"/repair-orders/{order_id}/status", headers=desk, json={"status": "repaired"})
    assert skip.status_code == 409 and skip.json()["missing_conditions"] == ["status diagnosed"]
    for status in ("diagnosed", "repaired", "tested", "shipped_back"):
        r = await c.post(f"/repair-orders/{order_id}/status", headers=desk, json={"status": status, "note": "ok"})
        assert r.status_code == 200, r.text
    shown = r.json()
    assert [h["status"] for h in shown["history"]] == ["received", "diagnosed", "repaired", "tested", "shipped_back"]
    assert all(h["customer_notification"].startswith(f"Repair {receipt}") for h in shown["history"])
    assert len(await orders()) == 1
    assert (await c.post(f"/repair-orders/{order_id}/status", headers=engineer(env, "e"),
                         json={"status": "tested"})).status_code == 403

    seen = await read_topic(env, "quality.events", stop_when=lambda ms: len(
        [m for m in ms if EventEnvelope.from_bytes(m.value).data.get("repair_order_id") == order_id]) >= 6)
    types = [(e.type, e.data.get("status")) for e in map(EventEnvelope.from_bytes, (m.value for m in seen))
             if e.data.get("repair_order_id") == order_id]
    assert types == [("RepairOrderOpened", None), ("RepairStatusChanged", "received"),
                     ("RepairStatusChanged", "diagnosed"), ("RepairStatusChanged", "repaired"),
                     ("RepairStatusChanged", "tested"), ("RepairStatusChanged", "shipped_back")]

    created = await c.post("/repair-orders", headers=desk, json={
        "case_id": str(case_id), "equipment": "spring mechanism", "fault": "does not charge",
        "customer_name": "Jiangsu Grid"})
    assert created.status_code == 201 and created.json()["receipt_number"].startswith("RR-")
    dup = await c.post("/repair-orders", headers=desk, json={
        "case_id": str(case_id), "receipt_number": receipt, "equipment": "x", "fault": "y", "customer_name": "z"})
    assert dup.status_code == 409


async def test_sla_warning_and_breach_with_a_controllable_clock(env, quality):
    app, c = quality
    case_id = await dispatched_case(env, c, ["eng-k3"])
    issue = await log_issue(c, env, case_id, "eng-k3", severity="critical")
    iid = issue["id"]
    async with app.state.sessions() as s:
        logged_at = (await s.get(QualityIssue, uuid.UUID(iid))).created_at
    response_target = timedelta(minutes=240)  # the seeded critical response target

    await run_sla_check(app.state.sessions, clock=lambda: logged_at + response_target * 0.5)
    assert (await c.get(f"/issues/{iid}", headers=quality_engineer(env))).json()["sla"]["response"]["warned_at"] is None
    await run_sla_check(app.state.sessions, clock=lambda: logged_at + response_target * 0.85)
    await run_sla_check(app.state.sessions, clock=lambda: logged_at + response_target * 0.9)  # warns once
    late = logged_at + response_target + timedelta(minutes=1)
    await run_sla_check(app.state.sessions, clock=lambda: late)
    shown = (await c.get(f"/issues/{iid}", headers=quality_engineer(env))).json()["sla"]
    assert shown["response"]["warned_at"] is not None and shown["response"]["breached_at"] is not None
    assert shown["resolution"]["breached_at"] is None

    async with app.state.sessions() as s:
        assert iid in {str(i.id) for i in await past_sla(session=s, now=late, limit=200)}
        assert iid not in {str(i.id) for i in await past_sla(session=s, now=logged_at, limit=200)}

    seen = await read_topic(env, "quality.events", stop_when=lambda ms: "IssueSlaBreached" in events_of(
        ms, "issue_id", iid))
    facts = [(e.type, e.data["clock"]) for e in map(EventEnvelope.from_bytes, (m.value for m in seen))
             if e.data.get("issue_id") == iid and e.type.startswith("IssueSla")]
    assert facts == [("IssueSlaWarning", "response"), ("IssueSlaBreached", "response")]

    # A paused clock does not breach; escalation stops the response clock.
    other = await log_issue(c, env, case_id, "eng-k3", severity="critical")
    await escalate(c, env, other["id"])
    await c.post(f"/issues/{other['id']}/sla-pause", headers=quality_engineer(env), json={"reason": "customer away"})
    await run_sla_check(app.state.sessions, clock=lambda: logged_at + timedelta(days=30))
    shown = (await c.get(f"/issues/{other['id']}", headers=quality_engineer(env))).json()["sla"]
    assert shown["resolution"]["breached_at"] is None and shown["response"]["breached_at"] is None
    assert shown["response"]["state"] == "met"
