"""Object-level authorisation (OWASP API1): engineers reach only their own visits and cases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.events import EventEnvelope
from shared.events.dispatch import CaseContacts, ContactPerson, ServiceDispatched, TeamMember
from tests.integration.conftest import bearer, producer, running_app, wait_async

pytestmark = pytest.mark.integration


def dispatched(case_id: uuid.UUID, engineer: str) -> bytes:
    person = ContactPerson(name="contact")
    payload = ServiceDispatched(
        case_id=case_id, crm_reference=f"B-{case_id.hex[:8]}", customer_name="C", site_name="S", region="east",
        equipment_type="GIS", team=[TeamMember(engineer_id=engineer, name=engineer, grade=3)],
        project_manager_id=engineer,
        contacts=CaseContacts(account_manager=person, customer_contact=person, site_interface=person),
    )
    return EventEnvelope.wrap(payload, source="/fieldservice/dispatch", subject=str(case_id), actor="d").to_bytes()


async def test_engineer_b_cannot_read_or_change_engineer_a_visit(env):
    case_id = uuid.uuid4()
    a, b = f"eng-a-{case_id.hex[:6]}", f"eng-b-{case_id.hex[:6]}"
    async with running_app(env, "onsite") as (_app, onsite), running_app(env, "quality") as (_q, quality):
        async with producer(env) as p:
            await p.send_and_wait("dispatch.events", dispatched(case_id, a), key=str(case_id).encode())
        as_a, as_b = bearer(env, "engineer", a), bearer(env, "engineer", b)

        async def visit_of_a():
            r = await onsite.get("/visits", params={"case_id": str(case_id)}, headers=as_a)
            return r.json()["items"] if r.status_code == 200 and r.json()["items"] else None

        visit = (await wait_async("the visit of engineer A", visit_of_a))[0]
        assert (await onsite.get(f"/visits/{visit['id']}", headers=as_a)).status_code == 200
        # B neither sees it listed, nor reads it, nor records an arrival on it.
        assert (await onsite.get("/visits", params={"case_id": str(case_id)}, headers=as_b)).json()["items"] == []
        assert (await onsite.get(f"/visits/{visit['id']}", headers=as_b)).status_code == 404
        arrival = {"arrived_at": datetime.now(UTC).isoformat(), "calls": []}
        assert (await onsite.post(f"/visits/{visit['id']}/arrivals", headers=as_b, json=arrival)).status_code == 404
        # A dispatcher may read it, but not work on it.
        dispatcher = bearer(env, "dispatcher", "d-1")
        assert (await onsite.get(f"/visits/{visit['id']}", headers=dispatcher)).status_code == 200
        assert (await onsite.post(f"/visits/{visit['id']}/arrivals", headers=dispatcher,
                                  json=arrival)).status_code == 403

        issue = {"case_id": str(case_id), "product": "GIS", "failure_mode": "gas-leak", "severity": "minor",
                 "description": "seen by B"}

        async def quality_knows_team():
            r = await quality.post("/issues", headers=as_a, json=issue)
            return r.status_code != 404 and r

        logged = await wait_async("quality to learn the team", quality_knows_team)
        assert logged.status_code in (201, 422), logged.text
        assert (await quality.post("/issues", headers=as_b, json=issue)).status_code == 404
