"""A regional service centre reads only its own region's cases (decision 0074)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import bearer, running_app
from tests.integration.dispatch.conftest import DispatchFlow, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def flow(env):
    async with running_app(env, "dispatch", consumer_enabled=False) as (_app, client):
        yield DispatchFlow(env, client)


async def test_a_regional_centre_reads_its_own_region_only(flow, env):
    east, west = unique("east"), unique("west")
    customer = unique("Jiangsu Grid")
    own = await flow.new_case(region=east, customer_name=customer)
    other = await flow.new_case(region=west, customer_name=customer)
    centre = bearer(env, "regional_centre", "rc-east", region=east)
    for path in ("", "/timeline", "/conformance"):
        assert (r := await flow.c.get(f"/cases/{own['id']}{path}", headers=centre)).status_code == 200, r.text
        r = await flow.c.get(f"/cases/{other['id']}{path}", headers=centre)
        assert r.status_code == 404 and r.json()["detail"] == f"service case {other['id']} does not exist"

    listed = (await flow.c.get("/cases", headers=centre, params={"customer": customer})).json()["items"]
    assert [c["id"] for c in listed] == [own["id"]]
    everything = (await flow.c.get("/cases", headers=centre, params={"limit": 200})).json()["items"]
    assert everything and {c["region"] for c in everything} == {east}
    asked = await flow.c.get("/cases", headers=centre, params={"region": west, "customer": customer})
    assert asked.status_code == 200 and asked.json()["items"] == []

    # the other region's centre sees the other case; a national role sees both
    west_centre = bearer(env, "regional_centre", "rc-west", region=west)
    listed = (await flow.c.get("/cases", headers=west_centre, params={"customer": customer})).json()["items"]
    assert [c["id"] for c in listed] == [other["id"]]
    listed = (await flow.c.get("/cases", headers=flow.d, params={"customer": customer})).json()["items"]
    assert {c["id"] for c in listed} == {own["id"], other["id"]}
    head = (await flow.c.get(f"/cases/{other['id']}", headers=flow.head))
    assert head.status_code == 200


async def test_a_regional_centre_token_without_a_region_reads_nothing(flow, env):
    case = await flow.new_case(region=unique("north"))
    regionless = bearer(env, "regional_centre", "rc-nowhere")
    for path in (f"/cases/{case['id']}", "/cases"):
        r = await flow.c.get(path, headers=regionless)
        assert r.status_code == 403 and "region" in r.json()["detail"], r.text
