"""Helpers for the dispatch integration tests: a signed CRM push, a roster, a case driven to dispatch."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from devstack.client import sample_request
from shared.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from shared.events import EventEnvelope, EventPayload
from shared.settings import DEV_WEBHOOK_SECRET
from tests.integration.conftest import TestEnv, bearer, producer, running_app


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class DispatchFlow:
    """Drives one dispatch app over HTTP as a dispatcher, a department head and the CRM."""

    def __init__(self, env: TestEnv, client: httpx.AsyncClient) -> None:
        self.env, self.c = env, client
        self.d = bearer(env, "dispatcher", "disp-1")
        self.d2 = bearer(env, "dispatcher", "disp-2")
        self.head = bearer(env, "department_head", "head-1")

    async def new_case(self, *, acknowledge: bool = True, **overrides: Any) -> dict:
        body = {**sample_request(unique("T")), **overrides}
        raw = json.dumps(body).encode()
        ts = int(time.time())
        headers = {**bearer(self.env, "crm", "crm"), "Content-Type": "application/json",
                   TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(DEV_WEBHOOK_SECRET, ts, raw)}
        r = await self.c.post("/crm/service-requests", content=raw, headers=headers)
        assert r.status_code == 201, r.text
        case = r.json()
        if acknowledge:
            r = await self.c.post(f"/cases/{case['id']}/acknowledge", headers=self.d)
            assert r.status_code == 200, r.text
            case = r.json()
        return case

    async def engineer(self, *, grade: int = 4, equipment_type: str = "GIS-126kV", region: str = "east",
                       certificates: list[dict] | None = None, unavailability: list[dict] | None = None) -> str:
        eid = unique("eng")
        r = await self.c.post("/engineers", headers=self.d, json={
            "id": eid, "name": f"Engineer {eid}", "grade": grade, "home_region": region,
            "skills": [{"equipment_type": equipment_type, "level": 3}],
            "certificates": certificates or [{"type": "hv_live_work", "number": "HV-1",
                                              "expires_on": (date.today() + timedelta(days=365)).isoformat()}],
            "unavailability": unavailability or []})
        assert r.status_code == 201, r.text
        return eid

    async def confirm_conditions(self, case_id: str, arrival_days: int = 2) -> httpx.Response:
        now = datetime.now(UTC)
        return await self.c.post(f"/cases/{case_id}/condition-calls", headers=self.d, json={
            "outcome": "confirmed", "called_at": (now - timedelta(minutes=5)).isoformat(),
            "conditions": {
                "site_address": "88 Xinhua Road, Wuxi", "site_environment": "indoor GIS hall, dust controlled",
                "work_content": "install and commission three GIS bays",
                "required_arrival": (now + timedelta(days=arrival_days)).isoformat(),
                "customer_preparation": ["foundations", "crane"], "company_preparation": ["tools", "SF6 gas"],
                "special_requirements": {"local_government": "work permit from the district",
                                         "project_management": "", "other_parties": "civil contractor on site"},
                "customer_deadline": (now + timedelta(days=10)).isoformat()}})

    async def assign(self, case_id: str, engineers: list[str], *, days: tuple[int, int] = (2, 6),
                     pm: int = 0) -> httpx.Response:
        now = datetime.now(UTC)
        return await self.c.post(f"/cases/{case_id}/assignment", headers=self.d, json={
            "engineers": [{"engineer_id": e, "is_project_manager": i == pm} for i, e in enumerate(engineers)],
            "planned_start": (now + timedelta(days=days[0])).isoformat(),
            "planned_end": (now + timedelta(days=days[1])).isoformat()})

    async def approved_plan(self, case_id: str) -> dict:
        r = await self.c.post(f"/cases/{case_id}/plans", headers=self.d, json=PLAN)
        assert r.status_code == 201, r.text
        r = await self.c.post(f"/plans/{r.json()['id']}/submit", headers={**self.d, "If-Match": r.headers["etag"]})
        assert r.status_code == 200, r.text
        r = await self.c.post(f"/plans/{r.json()['id']}/approve", headers={**self.head, "If-Match": r.headers["etag"]})
        assert r.status_code == 200, r.text
        return r.json()

    async def template(self, equipment_type: str = "GIS-126kV") -> dict:
        body = {**TEMPLATE, "template_id": unique("gis-commissioning"), "equipment_type": equipment_type}
        r = await self.c.post("/specification-templates", headers=self.d, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    async def prepare(self, case_id: str) -> dict:
        """S6: tick every item of the checklist (the standard's categories, the plan's and S2's)."""
        result: dict = {}
        items = (await self.c.get(f"/cases/{case_id}/preparation", headers=self.d)).json()["items"]
        for key in [i["key"] for i in items if not i["done"]]:
            r = await self.c.put(f"/cases/{case_id}/preparation/items/{key}", headers=self.d,
                                 json={"done": True, "note": "ok"})
            assert r.status_code == 200, r.text
            result = r.json()
        return result

    async def ready_case(self, *, equipment_type: str = "GIS-126kV") -> tuple[dict, list[str]]:
        """A case with S1-S6 done, ready for dispatch."""
        case = await self.new_case(equipment={"type": equipment_type, "model": "ZF11-126", "quantity": 3})
        engineers = [await self.engineer(grade=4, equipment_type=equipment_type),
                     await self.engineer(grade=3, equipment_type=equipment_type)]
        assert (await self.confirm_conditions(case["id"])).status_code == 201
        assert (r := await self.assign(case["id"], engineers)).status_code == 200, r.text
        await self.approved_plan(case["id"])
        await self.template(equipment_type)
        assert (r := await self.c.post(f"/cases/{case['id']}/specification-pack", headers=self.d,
                                       json={})).status_code == 201, r.text
        await self.prepare(case["id"])
        return case, engineers


PLAN = {
    "goals": ["three bays energised", "all tests within limits"],
    "steps": [{"order": 1, "title": "Assemble bays", "operation": "crane lift", "how": "per drawing D-12"},
              {"order": 2, "title": "Gas filling", "operation": "SF6 filling", "how": "to 0.6 MPa at 20 C"},
              {"order": 3, "title": "HV test", "operation": "AC withstand", "how": "barrier and watcher"}],
    "risk_measures": ["barriers and a safety watcher during tests", "gas handling PPE"],
}

TEMPLATE = {
    "kind": "check_sheet", "title": "GIS commissioning check sheet", "difficulty": None,
    "items": [
        {"item_id": "sf6-pressure", "text": "SF6 density at 20 C", "kind": "value", "unit": "MPa",
         "lower_limit": 0.55, "upper_limit": 0.65},
        {"item_id": "hv-withstand", "text": "AC withstand test witnessed by the customer", "kind": "value",
         "unit": "kV", "lower_limit": 0, "upper_limit": 230, "requires_witness": True, "primary_test": True},
        {"item_id": "bolts", "text": "Busbar bolts torqued", "kind": "yes_no"},
        {"item_id": "photo-nameplate", "text": "Nameplate photo", "kind": "photo"},
    ],
}


@asynccontextmanager
async def dispatch_flow(env: TestEnv, **settings: Any) -> AsyncIterator[DispatchFlow]:
    """A running dispatch app (with `settings` overridden) driven by a DispatchFlow; `flow.app` reaches its
    database and workers directly."""
    async with running_app(env, "dispatch", **settings) as (app, client):
        flow = DispatchFlow(env, client)
        flow.app = app
        yield flow


def envelope(service: str, payload: EventPayload, case_id: str, actor: str) -> EventEnvelope:
    """An event of `service` about one case, as that service would publish it."""
    return EventEnvelope.wrap(payload, source=f"/fieldservice/{service}", subject=case_id, actor=actor)


async def publish(env: TestEnv, *envelopes: tuple[str, EventEnvelope]) -> None:
    """Publish each (service, envelope) on that service's topic, keyed by its case."""
    async with producer(env) as p:
        for service, e in envelopes:
            await p.send_and_wait(f"{service}.events", e.to_bytes(), key=e.subject.encode())
