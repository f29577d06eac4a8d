"""The supervisors' page (issue 15): the case board, the conformance matrix as a coloured grid and the KPI
charts, served as HTML from the read model, in English and Chinese, with the API's tokens (header or cookie)
and its scoping; then in headless Chromium (Debian's chromium and chromium-driver): the grid shows the
expected colours for a seeded data set and a drill-down link leads to the case.

`INSIGHT_SCREENSHOTS=<dir>` (what `make screenshots` sets) also writes PNGs of the pages there."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from devstack.servers import free_port
from shared.api.auth import issue_dev_token
from shared.events import EventEnvelope, EventPayload
from shared.events.onsite import EngineerArrived, EngineerDeparted, ServiceCompleted, ThreeCallEntry
from tests.integration.conftest import producer, running_app, wait_async
from tests.integration.dispatch.conftest import DispatchFlow, unique

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NOW = datetime.now(UTC)
GREEN, RED = "rgba(46, 125, 50, 1)", "rgba(198, 40, 40, 1)"


@pytest.fixture(scope="module")
async def seeded(env):
    """Two cases of a fresh region: one visited and completed (S8, S30 done), one only received."""
    async with running_app(env, "dispatch") as (app, client):
        flow = DispatchFlow(env, client)
        region = unique("north")
        visited = await flow.new_case(region=region)
        waiting = await flow.new_case(region=region)
        eng, v = unique("eng"), {"case_id": visited["id"], "visit_id": uuid.uuid4()}
        calls = [ThreeCallEntry(party=p, called_at=NOW - timedelta(hours=3 - i), outcome="reached")
                 for i, p in enumerate(["account_manager", "customer_contact", "site_interface"])]
        events: list[EventPayload] = [
            EngineerArrived(**v, engineer_id=eng, arrived_at=NOW, calls=calls),
            ServiceCompleted(**v, completed_at=NOW, customer_name=visited["customer_name"], region=region,
                             equipment_type=visited["equipment_type"], engineer_ids=[eng]),
            EngineerDeparted(**v, engineer_id=eng, departed_at=NOW, visit_closed=True)]
        async with producer(env) as p:
            for payload in events:
                e = EventEnvelope.wrap(payload, source="/fieldservice/onsite", subject=visited["id"], actor=eng)
                await p.send_and_wait("onsite.events", e.to_bytes(), key=e.subject.encode())
        token = issue_dev_token(env.settings("dispatch"), subject="head-1", roles=["department_head"])

        async def in_the_read_model():
            r = await client.get("/conformance-report", params={"region": region},
                                 headers={"Authorization": f"Bearer {token}"})
            rows = {i["case_id"]: i for i in r.json()["items"]}
            done = rows.get(visited["id"], {}).get("steps", {}).get("S30", {}).get("status") == "done"
            return rows if done and waiting["id"] in rows else None

        await wait_async("the read model to hold both cases", in_the_read_model, timeout=30)
        yield {"app": app, "client": client, "env": env, "region": region, "visited": visited, "waiting": waiting,
               "engineer": eng, "token": token}


async def test_the_pages_render_the_read_model_in_both_languages_with_the_api_tokens(seeded):
    c, region, token = seeded["client"], seeded["region"], seeded["token"]
    header = {"Authorization": f"Bearer {token}"}
    r = await c.get("/insight/matrix", params={"region": region}, headers=header)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert f'data-case="{seeded["visited"]["id"]}"' in r.text and "cell-done" in r.text and "cell-missing" in r.text
    assert "<script" not in r.text and "http://" not in r.text and "https://" not in r.text
    # the same token as a cookie (what a browser sends); Chinese labels
    c.cookies.set("access_token", token)
    try:
        zh = await c.get("/insight/matrix", params={"region": region, "lang": "zh"})
        assert zh.status_code == 200 and "跨案件符合性" in zh.text and 'lang="zh-CN"' in zh.text
        board = await c.get("/insight/board", params={"region": region})
        assert board.status_code == 200 and seeded["waiting"]["crm_reference"] in board.text
        # the waiting case's next step due: S2 once its acknowledgement is on the timeline, S1 before
        assert "S2</span> Confirm service conditions" in board.text or "S1</span> Receive the request" in board.text
        charts = await c.get("/insight/charts", params={"region": region, "lang": "zh"})
        assert charts.status_code == 200 and charts.text.count("<svg") >= 7 and "准时到达率" in charts.text
        case = await c.get(f"/insight/cases/{seeded['visited']['id']}")
        assert case.status_code == 200 and 'id="step-S30"' in case.text
    finally:
        c.cookies.clear()
    assert (await c.get("/insight/board")).status_code == 401
    assert (await c.get("/insight/board", headers={"Cookie": "access_token=not-a-token"})).status_code == 401
    # scoping: another region's centre sees none of these cases; the engineer only theirs
    env = seeded["env"]
    other = issue_dev_token(env.settings("dispatch"), subject="rc-x", roles=["regional_centre"], region=unique("x"))
    r = await c.get("/insight/matrix", params={"region": region}, headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 200 and seeded["visited"]["id"] not in r.text
    mine = issue_dev_token(env.settings("dispatch"), subject=seeded["engineer"], roles=["engineer"])
    r = await c.get("/insight/matrix", headers={"Authorization": f"Bearer {mine}"})
    assert seeded["visited"]["id"] in r.text and seeded["waiting"]["id"] not in r.text


@contextmanager
def _browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--window-size=1400,900", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _in_chromium(base: str, seeded: dict, shots: Path | None) -> None:
    from selenium.webdriver.common.by import By

    with _browser() as driver:
        driver.get(f"{base}/healthz")  # the cookie belongs to this origin
        driver.add_cookie({"name": "access_token", "value": seeded["token"], "path": "/"})
        driver.get(f"{base}/insight/matrix?region={seeded['region']}")
        visited, waiting = seeded["visited"]["id"], seeded["waiting"]["id"]

        def cell(case_id: str, step: str) -> str:
            element = driver.find_element(By.CSS_SELECTOR, f'tr[data-case="{case_id}"] td[data-step="{step}"]')
            return element.value_of_css_property("background-color")

        assert cell(visited, "S30") == GREEN and cell(visited, "S8") == GREEN
        assert cell(waiting, "S30") == RED and cell(waiting, "S8") == RED
        if shots:
            driver.save_screenshot(str(shots / "insight-matrix.png"))
        driver.find_element(By.CSS_SELECTOR, f'tr[data-case="{visited}"] a').click()
        assert driver.current_url.endswith(f"/insight/cases/{visited}?lang=en")
        assert driver.find_element(By.ID, "step-S30").text.startswith("S30")
        if shots:
            driver.save_screenshot(str(shots / "insight-case.png"))
            for page in ("board", "charts"):
                driver.get(f"{base}/insight/{page}?region={seeded['region']}&lang=zh")
                driver.save_screenshot(str(shots / f"insight-{page}-zh.png"))
                driver.get(f"{base}/insight/{page}?region={seeded['region']}")
                driver.save_screenshot(str(shots / f"insight-{page}.png"))


async def test_in_headless_chromium_the_grid_shows_the_colours_and_a_case_opens(seeded):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: `make debian-packages` installs chromium and chromium-driver")
        pytest.skip(f"{', '.join(missing)} missing")
    shots = Path(os.environ["INSIGHT_SCREENSHOTS"]) if os.environ.get("INSIGHT_SCREENSHOTS") else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(seeded["app"], host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        await wait_async("the page server to start", lambda: asyncio.sleep(0, server.started), timeout=10)
        await asyncio.to_thread(_in_chromium, f"http://127.0.0.1:{port}", seeded, shots)
    finally:
        server.should_exit = True
        await serving
