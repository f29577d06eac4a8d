"""Personal data in dispatch over HTTP (decision 0093): reads of contacts audited, the export of a customer
contact (case and timeline), erasure that keeps the record and is idempotent, an engineer's erasure, and the
retention purge of timeline locations on a pinned clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.cases.service import record_event
from services.dispatch.privacy import PRIVACY
from shared.api.personal_data import retention_job
from shared.db import transaction
from shared.events import EventEnvelope
from shared.events.onsite import EngineerCheckedIn, WitnessRecorded
from tests.integration.conftest import bearer
from tests.integration.dispatch.conftest import dispatch_flow, unique

pytestmark = pytest.mark.integration
PINNED = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def officer(env) -> dict[str, str]:
    return bearer(env, "privacy_officer", "dpo-1")


async def on_timeline(app, case_id: str, payload, *, at: datetime, actor: str) -> None:
    """What dispatch's consumer does with another service's event: the case timeline keeps its payload."""
    envelope = EventEnvelope.wrap(payload, source="/fieldservice/onsite", subject=case_id, actor=actor)
    async with transaction(app.state.sessions) as session:
        await record_event(session=session, envelope=envelope.model_copy(update={"time": at}))


async def test_export_erasure_and_access_log_of_a_customer_contact(env):
    email = f"{unique('li')}@grid.example.cn"
    contacts = {"account_manager": {"name": "Chen Jie", "phone": "+86 510 2222 0001"},
                "customer_contact": {"name": "Li Na", "email": email, "phone": f"+86 {uuid.uuid4().int % 10**9}"},
                "site_interface": {"name": "Wang Fang", "phone": "+86 510 2222 0003"}}
    async with dispatch_flow(env) as flow:
        case = await flow.new_case(contacts=contacts)
        visit = uuid.uuid4()
        await on_timeline(flow.app, case["id"], WitnessRecorded(
            case_id=uuid.UUID(case["id"]), visit_id=visit, witness_id=uuid.uuid4(), subject_kind="milestone",
            subject_id=str(uuid.uuid4()), witness_name="Li Na", witness_role="customer engineer"),
            at=PINNED, actor="eng-x")

        # a dispatcher reads the case: the contacts' read is audited (not the officer's own later reads)
        assert (await flow.c.get(f"/cases/{case['id']}", headers=flow.d)).status_code == 200
        log = await flow.c.get("/personal-data/access-log", headers=officer(env), params={"subject": email})
        assert log.status_code == 200, log.text
        assert [(r["actor"], r["endpoint"]) for r in log.json()["items"]] == [("disp-1", "GET /cases/{case_id}")]
        assert (await flow.c.get("/personal-data/access-log", headers=flow.d)).status_code == 403

        # the export: the case's contacts and the timeline's witness, found by the name the address goes with
        r = await flow.c.get("/personal-data", headers=officer(env),
                             params={"subject_kind": "customer_contact", "subject": email.upper()})
        assert r.status_code == 200, r.text
        export = r.json()
        assert export["known_as"] == ["Li Na"] and export["cases"] == [case["id"]]
        found = {f"{f['table']}.{f['column']}": f["records"] for f in export["fields"]}
        assert found["service_case.contacts"][0]["key"] == case["id"]
        assert found["case_event.data"][0]["value"]["witness_name"] == "Li Na"

        # the erasure: the contact becomes a pseudonym, the others and the record stay
        body = {"subject_kind": "customer_contact", "subject": email}
        r = await flow.c.post("/personal-data/erasures", headers=officer(env), json=body)
        assert r.status_code == 201, r.text
        erased = r.json()
        alias = erased["pseudonym"]
        assert alias.startswith("erased-") and erased["requested_by"] == "dpo-1"
        assert erased["erased"]["service_case.contacts"] == 1 and erased["erased"]["case_event.data"] == 1
        assert email not in r.text and "Li Na" not in r.text
        after = (await flow.c.get(f"/cases/{case['id']}", headers=flow.d)).json()
        assert after["contacts"]["customer_contact"] == {"name": alias, "email": alias, "phone": alias}
        assert after["contacts"]["site_interface"] == {**contacts["site_interface"], "email": None}
        assert after["status"] == case["status"] and after["crm_reference"] == case["crm_reference"]
        timeline = (await flow.c.get(f"/cases/{case['id']}/timeline", headers=flow.d)).json()["items"]
        witnessed = next(e for e in timeline if e["event_type"] == "WitnessRecorded")
        assert witnessed["data"]["witness_name"] == alias and witnessed["data"]["witness_role"] == "customer engineer"
        assert witnessed["occurred_at"].startswith("2026-06-01T08:00")
        # the access log names the pseudonym now, never the address
        log = await flow.c.get("/personal-data/access-log", headers=officer(env), params={"subject": alias})
        assert {r["endpoint"] for r in log.json()["items"]} >= {"GET /cases/{case_id}"}

        # idempotent: the same record, nothing more changed
        again = await flow.c.post("/personal-data/erasures", headers=officer(env), json=body)
        assert again.status_code == 200, again.text
        assert again.json()["pseudonym"] == alias and again.json()["changed_now"] == 0
        assert again.json()["requests"] == 2 and again.json()["erased"] == erased["erased"]
        r = await flow.c.get("/personal-data", headers=officer(env),
                             params={"subject_kind": "customer_contact", "subject": email})
        assert r.json()["fields"] == []


async def test_an_engineers_erasure_and_the_purge_of_their_location_traces(env):
    async with dispatch_flow(env) as flow:
        eid = await flow.engineer()
        case = await flow.new_case()
        checked_in = EngineerCheckedIn(case_id=uuid.UUID(case["id"]), visit_id=uuid.uuid4(), engineer_id=eid,
                                       day=PINNED.date(), at=PINNED, latitude=31.49, longitude=120.31)
        await on_timeline(flow.app, case["id"], checked_in, at=PINNED - timedelta(days=91), actor=eid)
        await on_timeline(flow.app, case["id"], checked_in.model_copy(update={"day": PINNED.date()}),
                          at=PINNED - timedelta(days=10), actor=eid)

        # the roster read by a dispatcher is audited; the engineer's own read would not be
        assert (await flow.c.get(f"/engineers/{eid}", headers=flow.d)).status_code == 200
        log = (await flow.c.get("/personal-data/access-log", headers=officer(env),
                                params={"subject_kind": "engineer", "subject": eid})).json()["items"]
        assert [r["endpoint"] for r in log] == ["GET /engineers/{engineer_id}"]

        # the purge on a pinned clock: the 91-day-old sign-in loses its location, the 10-day-old keeps it
        await retention_job(PRIVACY, clock=lambda: PINNED)(flow.app.state.runtime)
        timeline = (await flow.c.get(f"/cases/{case['id']}/timeline", headers=flow.d)).json()["items"]
        fixes = sorted((e["occurred_at"], e["data"]["latitude"]) for e in timeline
                       if e["event_type"] == "EngineerCheckedIn")
        assert [lat for _, lat in fixes] == [None, 31.49]
        assert all(e["data"]["engineer_id"] == eid for e in timeline if e["event_type"] == "EngineerCheckedIn")

        r = await flow.c.post("/personal-data/erasures", headers=officer(env),
                              json={"subject_kind": "engineer", "subject": eid})
        assert r.status_code == 201, r.text
        alias = r.json()["pseudonym"]
        assert (await flow.c.get(f"/engineers/{eid}", headers=flow.d)).status_code == 404
        roster = (await flow.c.get(f"/engineers/{alias}", headers=flow.d)).json()
        assert roster["name"] == alias and roster["certificates"] == [] and roster["grade"] == 4
        timeline = (await flow.c.get(f"/cases/{case['id']}/timeline", headers=flow.d)).json()["items"]
        assert {e["actor"] for e in timeline if e["event_type"] == "EngineerCheckedIn"} == {alias}
        assert {e["data"]["engineer_id"] for e in timeline if e["event_type"] == "EngineerCheckedIn"} == {alias}
