"""Shared problem handling against the real database: races become 409, not 500."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.integration.conftest import bearer, running_app

pytestmark = pytest.mark.integration


async def test_concurrent_creation_of_the_same_thing_is_a_conflict_not_a_server_error(env):
    template = {
        "template_id": f"race-{uuid.uuid4().hex[:8]}", "title": "Race", "equipment_type": "GIS-126kV",
        "difficulty": "medium", "kind": "check_sheet", "items": [],
    }
    async with running_app(env, "dispatch", relay_enabled=False, consumer_enabled=False) as (_app, client):
        headers = bearer(env, "dispatcher", "d1")
        responses = await asyncio.gather(*[
            client.post("/specification-templates", headers=headers, json=template) for _ in range(6)])
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, [r.text for r in responses]
    assert set(codes) <= {201, 409}, [r.text for r in responses if r.status_code not in (201, 409)]
