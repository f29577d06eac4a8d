"""A regional service centre reads only its own region's visits and whereabouts (decision 0074)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.onsite.handlers import open_visit
from shared.db import transaction
from shared.events import EventEnvelope
from tests.integration.conftest import bearer
from tests.integration.onsite.conftest import Site, dispatched

pytestmark = pytest.mark.integration


async def visit_in(env, onsite, region: str) -> Site:
    """A visit of `region` opened through the real handler, its engineer arrived and signed in."""
    app, client = onsite
    engineer = f"eng-{uuid.uuid4().hex[:6]}"
    template = dispatched([engineer], sheets=[])
    payload = template.payload().model_copy(update={"region": region})
    envelope = EventEnvelope.wrap(payload, source="/fieldservice/dispatch", subject=template.subject, actor="disp-1")
    async with transaction(app.state.sessions) as session:
        await open_visit(session, envelope, envelope.payload())
    r = await client.get("/visits", params={"case_id": envelope.subject}, headers=bearer(env, "engineer", engineer))
    site = Site(env, client, r.json()["items"][0]["id"], [engineer], envelope.subject)
    await site.arrive()
    r = await site.post("/check-ins", {"at": datetime.now(UTC).isoformat(), "latitude": 31.5, "longitude": 120.3})
    assert r.status_code == 201, r.text
    return site


async def test_a_regional_centre_reads_its_own_region_only(env, onsite):
    _app, client = onsite
    east, west = f"east-{uuid.uuid4().hex[:6]}", f"west-{uuid.uuid4().hex[:6]}"
    own, other = await visit_in(env, onsite, east), await visit_in(env, onsite, west)
    centre = bearer(env, "regional_centre", "rc-east", region=east)

    for path in ("", "/presence", "/tasks"):
        assert (r := await client.get(f"/visits/{own.visit_id}{path}", headers=centre)).status_code == 200, r.text
        r = await client.get(f"/visits/{other.visit_id}{path}", headers=centre)
        assert r.status_code == 404 and r.json()["detail"] == f"site visit {other.visit_id} does not exist"

    listed = (await client.get("/visits", headers=centre, params={"limit": 200})).json()["items"]
    assert own.visit_id in {v["id"] for v in listed} and {v["region"] for v in listed} == {east}
    assert (await client.get("/visits", headers=centre, params={"case_id": other.case_id})).json()["items"] == []

    where = {w["engineer_id"] for w in (await client.get("/whereabouts", headers=centre)).json()}
    assert where == {own.engineers[0]}

    # a national role sees both; a regional centre's token without a region reads nothing
    dispatcher = bearer(env, "dispatcher", "disp-1")
    where = {w["engineer_id"] for w in (await client.get("/whereabouts", headers=dispatcher)).json()}
    assert {own.engineers[0], other.engineers[0]} <= where
    assert (await client.get(f"/visits/{other.visit_id}", headers=dispatcher)).status_code == 200
    regionless = bearer(env, "regional_centre", "rc-nowhere")
    for path in (f"/visits/{own.visit_id}", "/visits", "/whereabouts"):
        assert (await client.get(path, headers=regionless)).status_code == 403, path
