"""Quality issues over HTTP (in-process app, real database): register, paths, closed loop, access, history."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import bearer
from tests.integration.quality.conftest import (
    LOOP_STEPS,
    engineer,
    escalate,
    issue_body,
    log_issue,
    quality_engineer,
    seat_team,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def case(quality_http):
    app, _client = quality_http
    case_id = uuid.uuid4()
    await seat_team(app, case_id, ["eng-a"])
    return case_id


async def test_an_unknown_failure_mode_is_refused_naming_it_until_the_catalogue_has_it(env, quality_http, case):
    _app, c = quality_http
    code = f"seal-creep-{uuid.uuid4().hex[:6]}"
    r = await c.post("/issues", headers=engineer(env, "eng-a"), json=issue_body(case, failure_mode=code))
    assert r.status_code == 422 and code in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "failure_mode"
    assert (await c.post("/failure-modes", headers=engineer(env, "eng-a"),
                         json={"code": code, "name": "Seal creep"})).status_code == 403
    added = await c.post("/failure-modes", headers=quality_engineer(env), json={"code": code, "name": "Seal creep"})
    assert added.status_code == 201, added.text
    assert (await c.post("/issues", headers=engineer(env, "eng-a"),
                         json=issue_body(case, failure_mode=code))).status_code == 201
    retired = await c.patch(f"/failure-modes/{code}", headers=quality_engineer(env), json={"active": False})
    assert retired.status_code == 200 and not retired.json()["active"]
    assert (await c.post("/issues", headers=engineer(env, "eng-a"),
                         json=issue_body(case, failure_mode=code))).status_code == 422


async def test_engineers_log_only_on_their_cases_and_see_only_those(env, quality_http, case):
    _app, c = quality_http
    r = await c.post("/issues", headers=engineer(env, "eng-stranger"), json=issue_body(case))
    assert r.status_code == 404  # another engineer's case: its existence does not leak
    listed = await c.get("/issues", params={"case_id": str(case)}, headers=engineer(env, "eng-stranger"))
    assert listed.status_code == 404
    issue = await log_issue(c, env, case, "eng-a")
    assert issue["status"] == "logged" and issue["sla"]["response"]["state"] == "running"
    assert (await c.get(f"/issues/{issue['id']}", headers=engineer(env, "eng-stranger"))).status_code == 404
    assert (await c.post("/issues", headers=bearer(env, "dispatcher", "d1"), json=issue_body(case))).status_code == 403
    bad = await c.post("/issues", headers=engineer(env, "eng-a"), json={**issue_body(case), "status": "closed"})
    assert bad.status_code == 422


async def test_corrections_are_new_journal_entries(env, quality_http, case):
    _app, c = quality_http
    issue = await log_issue(c, env, case, "eng-a")
    r = await c.post(f"/issues/{issue['id']}/corrections", headers=engineer(env, "eng-a"),
                     json={"field": "serial_number", "value": "SN-2", "reason": "typo on the nameplate reading"})
    assert r.status_code == 200 and r.json()["serial_number"] == "SN-2"
    history = (await c.get(f"/issues/{issue['id']}/history", headers=engineer(env, "eng-a"))).json()
    assert [e["kind"] for e in history] == ["logged", "corrected"]
    assert history[1]["data"] == {"field": "serial_number", "old": "SN-1", "new": "SN-2",
                                  "reason": "typo on the nameplate reading"}
    assert (await c.delete(f"/issues/{issue['id']}", headers=quality_engineer(env))).status_code == 405
    too_long = await c.post(f"/issues/{issue['id']}/corrections", headers=engineer(env, "eng-a"),
                            json={"field": "model", "value": "M" * 101, "reason": "r"})
    assert too_long.status_code == 422 and "model" in too_long.json()["detail"]
    unknown = await c.post(f"/issues/{issue['id']}/corrections", headers=engineer(env, "eng-a"),
                           json={"field": "failure_mode", "value": "no-such-mode", "reason": "r"})
    assert unknown.status_code == 422 and "no-such-mode" in unknown.json()["detail"]


async def test_the_on_site_path(env, quality_http, case):
    _app, c = quality_http
    issue = await log_issue(c, env, case, "eng-a")
    r = await c.post(f"/issues/{issue['id']}/on-site-resolution", headers=engineer(env, "eng-a"),
                     json={"resolution": "relay re-seated, density normal", "resolved_by": "Chen Gang",
                           "customer_confirmed_by": "Wang Fang"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "resolved_on_site" and body["on_site_resolution"]["customer_confirmed_by"] == "Wang Fang"
    assert body["sla"]["response"]["state"] == "met"
    again = await c.post(f"/issues/{issue['id']}/escalation", headers=engineer(env, "eng-a"),
                         json={"responsible_unit": "u", "owner": "o"})
    assert again.status_code == 409 and again.json()["missing_conditions"] == [
        "a logged issue not yet escalated or resolved (it is resolved_on_site)"]
    missing = await c.post(f"/issues/{issue['id']}/on-site-resolution", headers=engineer(env, "eng-a"),
                           json={"resolution": "x", "resolved_by": "y"})
    assert missing.status_code == 422 and "customer_confirmed_by" in missing.json()["detail"]


async def test_the_closed_loop_over_http(env, quality_http, case):
    _app, c = quality_http
    issue = await log_issue(c, env, case, "eng-a", severity="critical")
    escalated = await escalate(c, env, issue["id"])
    assert escalated["status"] == "escalated" and escalated["owner"] == "qe-owner"
    assert escalated["sla"]["resolution"]["due_at"] is not None
    iid, owner = issue["id"], quality_engineer(env)

    skip = await c.post(f"/issues/{iid}/corrective-action", headers=owner, json=LOOP_STEPS[2][1])
    assert skip.status_code == 409 and skip.json()["missing_conditions"] == ["containment", "root cause"]
    early = await c.post(f"/issues/{iid}/closure", headers=owner, json={})
    assert early.status_code == 409 and early.json()["missing_conditions"] == [
        "containment", "root cause", "corrective action", "preventive action",
        "a positive verification of effectiveness"]
    other_unit = quality_engineer(env, "qe-elsewhere", "transformer-quality")
    assert (await c.post(f"/issues/{iid}/containment", headers=other_unit,
                         json=LOOP_STEPS[0][1])).status_code == 403
    assert (await c.post(f"/issues/{iid}/containment", headers=engineer(env, "eng-a"),
                         json=LOOP_STEPS[0][1])).status_code == 403
    no_whys = await c.post(f"/issues/{iid}/root-cause", headers=owner,
                           json={"method": "five_whys", "root_cause": "x"})
    assert no_whys.status_code == 422

    version = None
    for path, body in LOOP_STEPS:
        # A colleague of the same unit (not the named owner) may move it too.
        who = owner if path != "root-cause" else quality_engineer(env, "qe-colleague")
        r = await c.post(f"/issues/{iid}/{path}", headers=who, json=body)
        assert r.status_code == 200, (path, r.text)
        version = r.headers["etag"]
    assert r.json()["status"] == "verified"
    stale = await c.post(f"/issues/{iid}/closure", headers={**owner, "If-Match": 'W/"1"'}, json={})
    assert stale.status_code == 412
    closed = await c.post(f"/issues/{iid}/closure", headers={**owner, "If-Match": version}, json={})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"

    no_reason = await c.post(f"/issues/{iid}/reopening", headers=owner, json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    blank = await c.post(f"/issues/{iid}/reopening", headers=owner, json={"reason": "   "})
    assert blank.status_code == 422 and [e["field"] for e in blank.json()["errors"]] == ["body.reason"]
    reopened = await c.post(f"/issues/{iid}/reopening", headers=owner, json={"reason": "leak came back"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "reopened" and reopened.json()["loop"] == {}
    kinds = [e["kind"] for e in (await c.get(f"/issues/{iid}/history", headers=owner)).json()]
    assert kinds == ["logged", "escalated", "containment", "root_cause", "corrective_action", "preventive_action",
                     "verification", "closed", "reopened"]


async def test_an_ineffective_verification_blocks_closure_until_the_loop_is_redone(env, quality_http, case):
    _app, c = quality_http
    issue = await log_issue(c, env, case, "eng-a")
    await escalate(c, env, issue["id"])
    owner = quality_engineer(env)
    for path, body in LOOP_STEPS[:-1]:
        assert (await c.post(f"/issues/{issue['id']}/{path}", headers=owner, json=body)).status_code == 200
    await c.post(f"/issues/{issue['id']}/verification", headers=owner, json={"evidence": "leaks", "effective": False})
    r = await c.post(f"/issues/{issue['id']}/closure", headers=owner, json={})
    assert r.status_code == 409 and r.json()["missing_conditions"][0].startswith(
        "a positive verification of effectiveness")
    redo = await c.post(f"/issues/{issue['id']}/root-cause", headers=owner, json={
        "method": "fishbone", "root_cause": "wrong torque", "categories": {"method": ["torque not specified"]}})
    assert redo.status_code == 200 and set(redo.json()["loop"]) == {"containment", "root_cause"}


async def test_sla_pause_moves_the_deadline(env, quality_http, case):
    _app, c = quality_http
    issue = await log_issue(c, env, case, "eng-a")
    await escalate(c, env, issue["id"])
    owner = quality_engineer(env)
    paused = await c.post(f"/issues/{issue['id']}/sla-pause", headers=owner,
                          json={"reason": "waiting for the customer to open the bay"})
    assert paused.status_code == 200 and paused.json()["sla"]["paused"] is True
    assert paused.json()["sla"]["resolution"]["state"] == "paused"
    assert (await c.post(f"/issues/{issue['id']}/sla-pause", headers=owner,
                         json={"reason": "again"})).status_code == 409
    resumed = await c.post(f"/issues/{issue['id']}/sla-resume", headers=owner)
    assert resumed.status_code == 200 and resumed.json()["sla"]["paused"] is False
    assert resumed.json()["sla"]["resolution"]["due_at"] >= paused.json()["sla"]["resolution"]["due_at"]


async def test_sla_targets_are_configurable(env, quality_http):
    _app, c = quality_http
    targets = (await c.get("/sla-targets", headers=quality_engineer(env))).json()
    assert {t["severity"] for t in targets} == {"critical", "major", "minor"}
    r = await c.put("/sla-targets/minor", headers=quality_engineer(env),
                    json={"response_minutes": 4000, "resolution_minutes": 40000, "warning_percent": 75})
    assert r.status_code == 200 and r.json()["response_minutes"] == 4000
    assert (await c.put("/sla-targets/minor", headers=engineer(env, "e"),
                        json={"response_minutes": 1, "resolution_minutes": 1})).status_code == 403
    assert (await c.put("/sla-targets/urgent", headers=quality_engineer(env),
                        json={"response_minutes": 1, "resolution_minutes": 1})).status_code == 422


async def test_evidence_limits_and_checked_download(env, quality_http, case):
    app, c = quality_http
    issue = await log_issue(c, env, case, "eng-a")
    url = f"/issues/{issue['id']}/evidence"
    photo = b"\x89PNG fake photo bytes"
    r = await c.post(url, headers=engineer(env, "eng-a"), files={"file": ("relay.png", photo, "image/png")})
    assert r.status_code == 201, r.text
    assert r.json()["sha256"] == hashlib.sha256(photo).hexdigest()
    got = await c.get(f"{url}/{r.json()['id']}", headers=engineer(env, "eng-a"))
    assert got.status_code == 200 and got.content == photo
    assert got.headers["x-content-sha256"] == r.json()["sha256"]

    too_big = await c.post(url, headers=engineer(env, "eng-a"),
                           files={"file": ("big.png", b"x" * 5000, "image/png")})
    assert too_big.status_code == 413
    exe = await c.post(url, headers=engineer(env, "eng-a"),
                       files={"file": ("tool.exe", b"MZ", "application/x-msdownload")})
    assert exe.status_code == 415
    listed = (await c.get(url, headers=quality_engineer(env))).json()
    assert [e["filename"] for e in listed] == ["relay.png"]

    stored = Path(app.state.settings.evidence_dir) / issue["id"] / r.json()["id"]
    stored.write_bytes(b"tampered")
    tampered = await c.get(f"{url}/{r.json()['id']}", headers=engineer(env, "eng-a"))
    assert tampered.status_code == 409 and "SHA-256" in tampered.json()["detail"]
