"""The API documentation opens without the internet (plants and intranets have none).

Each service's `/docs` (Swagger UI) and `/redoc` are opened in headless Chromium (Debian's
`chromium` and `chromium-driver`, installed by `make debian-packages`) with every host but
127.0.0.1 unreachable: names resolve to nothing and every other address goes to a dead proxy.
The page must show the operations, and the browser's own network log must hold no request that
left 127.0.0.1 (one refused by the pages' Content-Security-Policy never left the browser). The
HTML pages themselves name no external URL.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from devstack.supervisor import LocalStack
from shared.api.auth import issue_dev_token
from shared.settings import ServiceSettings

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# An operation each service's documentation must show.
KNOWN_PATHS = {"dispatch": "/cases", "onsite": "/visits", "quality": "/issues", "feedback": "/follow-up-calls"}
HTML_PAGES = ["/docs", "/redoc", "/docs/oauth2-redirect"]
LOCAL_HOSTS = {"127.0.0.1"}
WAIT_SECONDS = 20


def _require_chromium() -> None:
    if os.environ.get("FAKETIME"):
        # `make test` checks the pages once on the real clock; the pinned reruns of tests/e2e skip them
        pytest.skip("documentation pages are checked in the run with the real clock")
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} missing: `make debian-packages` installs chromium and chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium that can reach 127.0.0.1 and nothing else."""
    _require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
        "--window-size=1280,900",
        # no name resolves but 127.0.0.1; any other address (a literal IP) goes to a proxy that is not there
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
        # the browser's own traffic (updates, sync, translation) is not the page's, and not wanted
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-features=Translate,OptimizationHints,MediaRouter",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def _network(driver: Any) -> dict[str, tuple[str, str | None]]:
    """What the page asked for since the last call, from Chrome's DevTools network events:
    request id -> (URL, why the browser refused it before sending, if it did)."""
    urls: dict[str, str] = {}
    blocked: dict[str, str | None] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message.get("method") == "Network.loadingFailed":
            blocked[params["requestId"]] = params.get("blockedReason")
    return {rid: (url, blocked.get(rid)) for rid, url in urls.items()}


def _left_the_machine(requests_seen: dict[str, tuple[str, str | None]]) -> list[str]:
    """URLs of requests to anywhere but 127.0.0.1 that the browser did not refuse itself (the
    pages' Content-Security-Policy refuses what a bundled script would fetch from elsewhere:
    ReDoc's Redocly logo)."""
    return [url for url, blocked_by in requests_seen.values()
            if urlsplit(url).scheme not in ("data", "blob", "about")
            and urlsplit(url).hostname not in LOCAL_HOSTS and blocked_by != "csp"]


def _external_urls(html: str) -> list[str]:
    """URLs in a page that point off this origin (XML namespace names of inline SVG are names, not
    addresses: left out)."""
    html = re.sub(r'xmlns(?::\w+)?="[^"]*"', "", html)
    return re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", html)


def _check_page(base: str, page: str, headers: dict[str, str] | None = None) -> None:
    response = requests.get(base + page, headers=headers, timeout=10)
    assert response.status_code == 200, (page, response.status_code)
    assert response.headers["content-type"].startswith("text/html")
    assert _external_urls(response.text) == [], (page, _external_urls(response.text))
    for asset in re.findall(r"""(?:src|href)="(/[^"?]+)""", response.text):
        assert requests.get(base + asset, headers=headers, timeout=10).status_code == 200, (page, asset)


@pytest.mark.parametrize("service", list(KNOWN_PATHS))
def test_the_html_pages_name_no_external_url(stack: LocalStack, service: str) -> None:
    base = f"http://127.0.0.1:{stack.service_ports[service]}"
    for page in HTML_PAGES:
        _check_page(base, page)


def test_the_supervisors_pages_name_no_external_url(stack: LocalStack) -> None:
    """Dispatch's HTML pages for supervisors (decision 85) load nothing from elsewhere either."""
    token = issue_dev_token(ServiceSettings(), subject="docs-offline", roles=["dispatcher"], unit="test")
    base = f"http://127.0.0.1:{stack.service_ports['dispatch']}"
    for page in ("/insight/board", "/insight/matrix", "/insight/charts"):
        _check_page(base, page, headers={"Authorization": f"Bearer {token}"})


def test_docs_and_redoc_render_with_the_network_blocked(stack: LocalStack, browser: Any) -> None:
    """Swagger UI of every service, and ReDoc (the same page for all: one service), show the
    operations; nothing left 127.0.0.1."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    seen: dict[str, tuple[str, str | None]] = {}
    for service, path in KNOWN_PATHS.items():
        browser.get(f"http://127.0.0.1:{stack.service_ports[service]}/docs")
        WebDriverWait(browser, WAIT_SECONDS).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock .opblock-summary-path")))
        shown = {e.get_attribute("data-path") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
        assert path in shown, (service, sorted(shown))
        assert len(shown) >= 3, (service, sorted(shown))
        seen |= _network(browser)

    browser.get(f"http://127.0.0.1:{stack.service_ports['dispatch']}/redoc")
    WebDriverWait(browser, WAIT_SECONDS).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-section-id*='operation/']")))
    assert KNOWN_PATHS["dispatch"] in browser.find_element(By.TAG_NAME, "body").text
    seen |= _network(browser)

    fetched = {url for url, _ in seen.values()}
    assert {f"http://127.0.0.1:{port}/openapi.json" for port in stack.service_ports.values()} <= fetched, fetched
    assert _left_the_machine(seen) == [], _left_the_machine(seen)
