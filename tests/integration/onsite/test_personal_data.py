"""Personal data in onsite over HTTP (decision 0093): engineers' locations read by others are audited (their
own are not), the location traces purged after LOCATION_TRACE_RETENTION_DAYS on a pinned clock, and a
customer contact exported and erased from the visit's contacts and its S15 log."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.onsite.handlers import open_visit
from services.onsite.privacy import PRIVACY
from shared.api.personal_data import retention_job
from shared.db import transaction
from shared.events import EventEnvelope
from shared.events.dispatch import CaseContacts, ContactPerson
from tests.integration.conftest import bearer
from tests.integration.onsite.conftest import NOW, Site, dispatched

pytestmark = pytest.mark.integration


async def open_site(env, onsite, contact: ContactPerson) -> Site:
    """A visit whose customer contact is `contact` (a person no other test shares)."""
    app, client = onsite
    engineers = [f"eng-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    base = dispatched(engineers)
    payload = base.payload().model_copy(update={"contacts": CaseContacts(
        account_manager=ContactPerson(name="Chen Jie", phone="+86 10 1000"), customer_contact=contact,
        site_interface=ContactPerson(name="Liu Yang", phone="+86 10 2000"))})
    envelope = EventEnvelope.wrap(payload, source="/fieldservice/dispatch", subject=base.subject, actor="disp-1")
    envelope = envelope.model_copy(update={"time": base.time})
    async with transaction(app.state.sessions) as session:
        await open_visit(session, envelope, payload)
    r = await client.get("/visits", params={"case_id": envelope.subject}, headers=bearer(env, "engineer",
                                                                                           engineers[0]))
    site = Site(env, client, r.json()["items"][0]["id"], engineers, envelope.subject)
    for i in range(2):
        await site.arrive(i)
    return site


async def reads_of(client, env, subject: str) -> list[tuple[str, str]]:
    r = await client.get("/personal-data/access-log", params={"subject": subject},
                         headers=bearer(env, "privacy_officer", "dpo-1"))
    assert r.status_code == 200, r.text
    return [(row["actor"], row["endpoint"]) for row in r.json()["items"]]


async def test_locations_are_audited_when_others_read_them_and_purged_after_their_retention(env, onsite):
    app, client = onsite
    site = await open_site(env, onsite, ContactPerson(name="Zhou Lan", phone=f"+86 {uuid.uuid4().int % 10**9}"))
    here = {"at": NOW.isoformat(), "latitude": 31.49, "longitude": 120.31, "accuracy_m": 8}
    assert (await site.post("/check-ins", here, who=0)).status_code == 201
    assert (await site.post("/check-ins", here, who=1)).status_code == 201
    me, other = site.engineers

    # the engineer reads the visit's sign-ins: the colleague's location is audited, their own is not
    assert (await site.get("/presence", who=0)).status_code == 200
    assert await reads_of(client, env, me) == []
    assert await reads_of(client, env, other) == [(me, "GET /visits/{visit_id}/presence")]
    # a dispatcher looks where everyone is
    r = await client.get("/whereabouts", headers=bearer(env, "dispatcher", "disp-7"))
    assert {w["engineer_id"] for w in r.json()} >= {me, other}
    assert ("disp-7", "GET /whereabouts") in await reads_of(client, env, me)

    # the purge on a pinned clock: kept for LOCATION_TRACE_RETENTION_DAYS (90) after the sign-in, then cleared
    purge = retention_job(PRIVACY, clock=lambda: NOW + timedelta(days=89))
    await purge(app.state.runtime)
    rows = (await site.get("/presence", who=0)).json()["items"]
    assert {(p["in_latitude"], p["in_longitude"]) for p in rows} == {(31.49, 120.31)}
    await retention_job(PRIVACY, clock=lambda: NOW + timedelta(days=91))(app.state.runtime)
    rows = (await site.get("/presence", who=0)).json()["items"]
    assert {(p["in_latitude"], p["in_longitude"], p["in_accuracy_m"]) for p in rows} == {(None, None, None)}
    assert {p["day"] for p in rows} and all(p["checked_in_at"] for p in rows)  # the S10 record stays
    r = await client.get("/whereabouts", headers=bearer(env, "dispatcher", "disp-7"))
    assert not {w["engineer_id"] for w in r.json()} & {me, other}


async def test_a_customer_contact_exported_and_erased_from_the_visit(env, onsite):
    _, client = onsite
    email = f"zhou.{uuid.uuid4().hex[:6]}@grid.example.cn"
    site = await open_site(env, onsite, ContactPerson(name="Zhou Min", email=email, phone="+86 10 7777"))
    r = await site.post("/communications", {"kind": "request", "counterpart": "Zhou Min",
                                            "text": "Zhou Min asks for the test report by Friday"})
    assert r.status_code == 201, r.text
    # a dispatcher reads the visit: its contacts' read is audited
    assert (await site.get("", role="dispatcher", who="disp-3")).status_code == 200
    assert ("disp-3", "GET /visits/{visit_id}") in await reads_of(client, env, email)

    officer = bearer(env, "privacy_officer", "dpo-1")
    params = {"subject_kind": "customer_contact", "subject": email}
    export = (await client.get("/personal-data", params=params, headers=officer)).json()
    assert export["known_as"] == ["Zhou Min"] and export["cases"] == [site.case_id]
    found = {f"{f['table']}.{f['column']}" for f in export["fields"]}
    assert {"site_visit.contacts", "communication_entry.counterpart", "communication_entry.text"} <= found

    r = await client.post("/personal-data/erasures", json=params, headers=officer)
    assert r.status_code == 201, r.text
    alias = r.json()["pseudonym"]
    visit = (await site.get("", role="dispatcher", who="disp-3")).json()
    assert visit["contacts"]["customer_contact"] == {"name": alias, "email": alias, "phone": alias}
    assert visit["contacts"]["site_interface"]["name"] == "Liu Yang"
    log = (await site.get("/communications")).json()
    entries = log["items"] if isinstance(log, dict) else log
    assert [(e["counterpart"], e["text"]) for e in entries] == [(alias, f"{alias} asks for the test report by Friday")]
    again = await client.post("/personal-data/erasures", json=params, headers=officer)
    assert again.status_code == 200 and again.json()["changed_now"] == 0
