"""The OpenAPI documents as a contract a generator can trust (decision 0080).

From each running service's `/openapi.json` a client is generated with `openapi-python-client
--fail-on-warning`; `clients_script.py`, written against the four generated packages, passes
`mypy --strict` and then runs against the stack: a typed problem from dispatch's gate on a fresh
case, the PDF service report of a completed visit, paginated lists (one followed by its cursor).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.client import StackClient, sample_request
from devstack.demo import Journey, complete_on_site, prepare_and_dispatch, raise_quality_issue, work_on_site
from devstack.supervisor import LocalStack

# one_clock: generating and type-checking clients does not depend on the day (make test-calendar)
pytestmark = [pytest.mark.e2e, pytest.mark.one_clock]

SERVICES = ("dispatch", "onsite", "quality", "feedback")
SCRIPT = Path(__file__).with_name("clients_script.py")
BIN = Path(sys.executable).parent
# The generator reads only JSON, text and octet-stream bodies: the documents declare the real file
# types, the generator's configuration maps them to bytes (a `File` in the client).
# Binary bodies a generator is told to treat as octet streams (an integrator's config does the same), the
# chunks of a resumable upload (tus, decision 0092) among them.
BINARY_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp", "video/mp4",
                "application/offset+octet-stream")


def _run(command: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command[:3])} failed:\n{output}"
    return output


def generate_and_check(ports: dict[str, int], folder: Path) -> Path:
    """Generate the four clients into `folder/packages`; type-check the script using them (`--strict`
    covers the generated modules the script imports)."""
    packages = folder / "packages"
    packages.mkdir()
    generators = []
    for service in SERVICES:
        document = httpx.get(f"http://127.0.0.1:{ports[service]}/openapi.json", timeout=30).json()
        (folder / f"{service}.json").write_text(json.dumps(document))
        (folder / f"{service}.yaml").write_text(
            f"package_name_override: {service}_client\nproject_name_override: {service}-client\npost_hooks: []\n"
            "content_type_overrides:\n" + "".join(f"  {t}: application/octet-stream\n" for t in BINARY_TYPES))
        generators.append((service, subprocess.Popen(
            [str(BIN / "openapi-python-client"), "generate", "--path", f"{service}.json", "--config", f"{service}.yaml",
             "--output-path", str(packages / f"{service}_client"), "--meta", "none", "--fail-on-warning"],
            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    for service, process in generators:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, f"the {service} client has warnings or errors:\n{output}"
    (folder / "mypy.ini").write_text("[mypy]\n")
    _run([str(BIN / "mypy"), "--strict", "--config-file", "mypy.ini", "--cache-dir", str(folder / ".mypy_cache"),
          str(SCRIPT)],
         cwd=folder, timeout=180, env={"MYPYPATH": str(packages)})
    return packages


def completed_visit(stack: LocalStack, client: StackClient) -> dict[str, Any]:
    """A visit completed earlier in the session (tests/e2e/test_case_lifecycle.py), else one driven now."""
    listed = client.http["onsite"].get("/visits", params={"limit": 200}, headers=client.as_("dispatcher", "disp-001"))
    assert listed.status_code == 200, listed.text
    done = [v for v in listed.json()["items"] if v["status"] == "completed"]
    if done:
        return done[0]
    patient = StackClient(stack.service_ports, timeout=60)  # completing renders the report
    try:
        journey = Journey(patient, 90, lambda _line: None)
        for phase in (prepare_and_dispatch, work_on_site, raise_quality_issue, complete_on_site):
            phase(journey)
    finally:
        patient.close()
    return {"id": journey.ids["visit"], "case_id": journey.ids["case"]}


def test_generated_clients_type_check_and_work_against_the_stack(
    stack: LocalStack, client: StackClient, tmp_path: Path
) -> None:
    with ThreadPoolExecutor(1) as pool:
        checked = pool.submit(generate_and_check, stack.service_ports, tmp_path)  # meanwhile, a completed visit
        visit = completed_visit(stack, client)
        fresh = client.crm_push(sample_request(f"CRM-{uuid.uuid4().hex[:10].upper()}"))
        assert fresh.status_code == 201, fresh.text
        packages = checked.result()

    given = {
        "urls": {s: f"http://127.0.0.1:{stack.service_ports[s]}" for s in SERVICES},
        "tokens": {"dispatcher": client.token("dispatcher", "disp-001"), "admin": client.token("admin", "admin-001")},
        "fresh_case": fresh.json()["id"], "case": visit["case_id"], "visit": visit["id"],
    }
    output = _run([sys.executable, str(SCRIPT), json.dumps(given)], cwd=tmp_path, timeout=60,
                  env={"PYTHONPATH": str(packages)})
    result = json.loads(output.strip().splitlines()[-1])
    assert any("S2" in condition for condition in result["missing_conditions"]), result
    assert result["pdf_bytes"] > 1000
