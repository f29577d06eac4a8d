"""Fixtures of the onsite integration tests: an in-process onsite app and a visit builder."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.onsite.handlers import open_visit
from services.onsite.site_days import site_calendar
from shared.db import transaction
from shared.events import EventEnvelope
from shared.events.dispatch import (
    CaseContacts,
    CheckSheet,
    CheckSheetItem,
    ContactPerson,
    ServiceDispatched,
    TeamMember,
)
from tests.integration.conftest import TestEnv, bearer, events_of, http_only  # noqa: F401  (events_of re-exported)

NOW = datetime.now(UTC)
# The cases of these tests were dispatched before any time they pin (reported times are checked against it).
DISPATCHED_AT = datetime(2026, 10, 1, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


def check_sheets() -> list[CheckSheet]:
    """A live-HV primary test (measurement with limits and a witness) and a plain mounting sheet with a photo."""
    return [
        CheckSheet(sheet_id="cs-hv", kind="check_sheet", title="Circuit-breaker tests", template_id="t-cb",
                   template_version=1, items=[
                       CheckSheetItem(item_id="r1", text="Main-circuit resistance", kind="value", unit="µΩ",
                                      lower_limit=0, upper_limit=120, requires_witness=True, live_hv=True,
                                      primary_test=True),
                       CheckSheetItem(item_id="y1", text="Interlocks work", kind="yes_no"),
                   ]),
        CheckSheet(sheet_id="cs-mount", kind="flow_card", title="Mounting", template_id="t-mount",
                   template_version=2, items=[
                       CheckSheetItem(item_id="p1", text="Photo of the nameplate", kind="photo"),
                   ]),
    ]


def dispatched(engineers: list[str], *, sheets: list[CheckSheet] | None = None,
               deadline: datetime | None = None) -> EventEnvelope:
    case_id = uuid.uuid4()
    person = ContactPerson(name="Wang Fang", phone="+86 10 0000")
    payload = ServiceDispatched(
        case_id=case_id, crm_reference=f"R-{case_id.hex[:8]}", customer_name="North Grid Co.", site_name="Substation 7",
        region="north", equipment_type="GIS",
        team=[TeamMember(engineer_id=e, name=f"Engineer {e}", grade=3, is_project_manager=i == 0)
              for i, e in enumerate(engineers)],
        project_manager_id=engineers[0],
        contacts=CaseContacts(account_manager=person, customer_contact=person, site_interface=person),
        planned_start=NOW, planned_end=NOW + timedelta(days=3), customer_deadline=deadline,
        check_sheets=check_sheets() if sheets is None else sheets,
    )
    envelope = EventEnvelope.wrap(payload, source="/fieldservice/dispatch", subject=str(case_id), actor="disp-1")
    return envelope.model_copy(update={"time": min(DISPATCHED_AT, envelope.time)})


class Site:
    """Drives one visit over HTTP as its engineers."""

    def __init__(self, env: TestEnv, client: httpx.AsyncClient, visit_id: str, engineers: list[str],
                 case_id: str = "") -> None:
        self.env, self.client, self.visit_id, self.engineers = env, client, visit_id, engineers
        self.case_id = case_id

    def as_(self, who: str | int = 0, role: str = "engineer") -> dict[str, str]:
        subject = self.engineers[who] if isinstance(who, int) else who
        return bearer(self.env, role, subject)

    async def post(self, path: str, body: Any = None, who: str | int = 0,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(f"/visits/{self.visit_id}{path}", json=body,
                                      headers={**self.as_(who), **(headers or {})})

    async def put(self, path: str, body: Any, who: str | int = 0) -> httpx.Response:
        return await self.client.put(f"/visits/{self.visit_id}{path}", json=body, headers=self.as_(who))

    async def get(self, path: str = "", who: str | int = 0, role: str = "engineer") -> httpx.Response:
        return await self.client.get(f"/visits/{self.visit_id}{path}", headers=self.as_(who, role))

    async def arrive_as(self, who: str) -> None:
        self.engineers.append(who)
        await self.arrive(len(self.engineers) - 1)

    async def arrive(self, who: int = 0, at: datetime | None = None) -> None:
        """S8: arrive after the three calls (at a pinned time, or at NOW: the calls five minutes before)."""
        at = at or NOW - timedelta(minutes=5)
        calls = [{"party": p, "called_at": (at + timedelta(minutes=i)).isoformat(), "outcome": "reached"}
                 for i, p in enumerate(["account_manager", "customer_contact", "site_interface"])]
        r = await self.post("/arrivals", {"arrived_at": (at + timedelta(minutes=5)).isoformat(), "calls": calls}, who)
        assert r.status_code == 201, r.text

    async def tasks(self) -> dict[str, dict]:
        r = await self.get("/tasks")
        assert r.status_code == 200, r.text
        return {t["sheet_id"] or t["title"]: t for t in r.json()}

    async def brief(self, disputed: list[str] | None = None) -> dict:
        r = await self.post("/briefings", {
            "held_at": NOW.isoformat(), "content": "Commissioning of GIS bays 1-2", "scope": "bays 1-2",
            "risk_points": ["live busbar next to bay 2"], "goals": ["energise by Friday"],
            "missing_parts": [], "disputed_points": disputed or [], "customer_attendees": ["Liu (site manager)"]})
        assert r.status_code == 201, r.text
        return r.json()

    async def permit(self, scope: list[str]) -> None:
        r = await self.post("/permits", {"number": f"WP-{uuid.uuid4().hex[:4]}", "issued_by": "Site manager Liu",
                                         "scope": scope, "valid_from": (NOW - timedelta(hours=1)).isoformat(),
                                         "valid_to": (NOW + timedelta(days=3)).isoformat()})
        assert r.status_code == 201, r.text

    async def safe(self, task_id: str, who: int = 0, **answers: Any) -> httpx.Response:
        body = {"day": site_calendar().day(datetime.now(UTC), "north").isoformat(),  # the site's day (S14)
                "ppe": True, "helmet": True, "insulated_gloves": True,
                "insulated_tools": True, "tools_test_valid_until": (date.today() + timedelta(days=90)).isoformat(),
                "gloves_test_valid_until": (date.today() + timedelta(days=60)).isoformat(),
                "barriers": True, "safety_watcher": "Li Ming", **answers}
        return await self.post(f"/tasks/{task_id}/safety-checklists", body, who)

    async def upload(self, kind: str, attached_id: str | None, data: bytes = PNG, content_type: str = "image/png",
                     who: int = 0) -> httpx.Response:
        form = {"attached_kind": kind, **({"attached_id": attached_id} if attached_id else {})}
        return await self.client.post(f"/visits/{self.visit_id}/evidence", headers=self.as_(who), data=form,
                                      files={"file": ("f", data, content_type)})

    async def witness(self, kind: str, subject_id: str) -> httpx.Response:
        return await self.post("/witnesses", {
            "subject_kind": kind, "subject_id": subject_id, "name": "Zhang Wei", "role": "customer test engineer",
            "signature": {"kind": "typed", "typed_name": "Zhang Wei", "signed_at": NOW.isoformat()}})


@pytest.fixture(scope="module")
async def onsite(env, tmp_path_factory):
    """The onsite app without its consumer (pure HTTP; visits are opened through the real handler)."""
    async with http_only(env, "onsite", tmp_path_factory) as running:
        yield running


@pytest.fixture
async def new_site(env, onsite):
    """Open a visit for fresh engineers from a ServiceDispatched (through the real handler) and arrive."""
    app, client = onsite

    async def make(n: int = 2, *, sheets: list[CheckSheet] | None = None, deadline: datetime | None = None,
                   arrive: bool = True) -> Site:
        engineers = [f"eng-{uuid.uuid4().hex[:6]}" for _ in range(n)]
        envelope = dispatched(engineers, sheets=sheets, deadline=deadline)
        async with transaction(app.state.sessions) as session:
            await open_visit(session, envelope, envelope.payload())
        r = await client.get("/visits", params={"case_id": envelope.subject}, headers=bearer(env, "engineer",
                                                                                               engineers[0]))
        site = Site(env, client, r.json()["items"][0]["id"], engineers, envelope.subject)
        if arrive:
            for i in range(n):
                await site.arrive(i)
        return site

    return make
