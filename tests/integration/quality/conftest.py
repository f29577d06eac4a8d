"""Fixtures of the quality service's integration tests: apps, tokens, teams and issues."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.events import EventEnvelope
from shared.events.dispatch import CaseContacts, ContactPerson, ServiceDispatched, TeamMember
from tests.integration.conftest import bearer, http_only

QUALITY_UNIT = "switchgear-quality"


@pytest.fixture(scope="module")
async def quality_http(env, tmp_path_factory):
    """Quality over HTTP only (no consumer group join): the app and its client."""
    async with http_only(env, "quality", tmp_path_factory) as running:
        yield running


def engineer(env, subject: str) -> dict[str, str]:
    return bearer(env, "engineer", subject)


def quality_engineer(env, subject: str = "qe-owner", unit: str | None = QUALITY_UNIT) -> dict[str, str]:
    return bearer(env, "quality_engineer", subject, **({"unit": unit} if unit else {}))


def dispatched(case_id: uuid.UUID, engineers: list[str], customer: str = "Jiangsu Grid") -> ServiceDispatched:
    person = ContactPerson(name="x")
    return ServiceDispatched(
        case_id=case_id, crm_reference=f"R-{case_id.hex[:6]}", customer_name=customer, site_name="S",
        region="east", equipment_type="GIS", team=[TeamMember(engineer_id=e, name=e, grade=3) for e in engineers],
        project_manager_id=engineers[0],
        contacts=CaseContacts(account_manager=person, customer_contact=person, site_interface=person))


def envelope(payload: Any, source: str, case_id: uuid.UUID, actor: str = "someone") -> EventEnvelope:
    return EventEnvelope.wrap(payload, source=f"/fieldservice/{source}", subject=str(case_id), actor=actor)


async def seat_team(app: FastAPI, case_id: uuid.UUID, engineers: list[str]) -> None:
    """What ServiceDispatched would do, for HTTP-only tests: quality learns the case's team."""
    from services.quality.issues.service import remember_team
    from shared.db import transaction

    async with transaction(app.state.sessions) as session:
        await remember_team(session=session, event=dispatched(case_id, engineers))


def issue_body(case_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    return {"case_id": str(case_id), "product": "GIS bay", "model": "ZF11-126", "serial_number": "SN-1",
            "failure_mode": "gas-leak", "severity": "major", "description": "SF6 density relay reads low",
            **overrides}


async def log_issue(client: httpx.AsyncClient, env, case_id: uuid.UUID, eng: str, **overrides: Any) -> dict:
    r = await client.post("/issues", headers=engineer(env, eng), json=issue_body(case_id, **overrides))
    assert r.status_code == 201, r.text
    return r.json()


async def escalate(client: httpx.AsyncClient, env, issue_id: str, owner: str = "qe-owner") -> dict:
    r = await client.post(f"/issues/{issue_id}/escalation", headers=quality_engineer(env, "qe-triage", None),
                          json={"responsible_unit": QUALITY_UNIT, "owner": owner})
    assert r.status_code == 200, r.text
    return r.json()


LOOP_STEPS: list[tuple[str, dict[str, Any]]] = [
    ("containment", {"action": "bay 2 isolated, gas topped up"}),
    ("root-cause", {"method": "five_whys", "root_cause": "seal batch aged in storage",
                    "whys": ["density low", "leak at flange", "seal hardened", "stored 3 years", "no FIFO"]}),
    ("corrective-action", {"action": "replace flange seals on bay 2", "owner": "qe-owner"}),
    ("preventive-action", {"action": "check seal age at preparation", "owner": "qe-owner",
                           "template_id": "GIS-commissioning", "equipment_type": "GIS",
                           "revision_note": "add seal batch age check"}),
    ("verification", {"evidence": "no pressure drop over 30 days", "effective": True}),
]
