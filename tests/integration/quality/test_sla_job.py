"""The SLA check as the service runs it: a periodic job on the real clock, with configured targets."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import running_app, wait_async
from tests.integration.quality.conftest import log_issue, quality_engineer, seat_team

pytestmark = pytest.mark.integration


async def test_the_periodic_job_warns_with_the_configured_targets(env, tmp_path):
    async with running_app(env, "quality", consumer_enabled=False, evidence_dir=str(tmp_path),
                           sla_check_interval_seconds=0.2) as (app, c):
        qe = quality_engineer(env)
        before = {t["severity"]: t for t in (await c.get("/sla-targets", headers=qe)).json()}["minor"]
        # Warn after 1 % of a one-minute response target (0.6 s): the real job must notice it.
        r = await c.put("/sla-targets/minor", headers=qe,
                        json={"response_minutes": 1, "resolution_minutes": 60, "warning_percent": 1})
        assert r.status_code == 200
        try:
            case_id = uuid.uuid4()
            await seat_team(app, case_id, ["eng-j"])
            issue = await log_issue(c, env, case_id, "eng-j", severity="minor")

            async def warned():
                shown = (await c.get(f"/issues/{issue['id']}", headers=qe)).json()
                return shown["sla"]["response"]["warned_at"]
            await wait_async("the periodic SLA job to warn", warned, timeout=10)
            history = (await c.get(f"/issues/{issue['id']}/history", headers=qe)).json()
            assert [e["data"]["clock"] for e in history if e["kind"] == "sla_warning"] == ["response"]
        finally:
            await c.put("/sla-targets/minor", headers=qe, json={
                k: before[k] for k in ("response_minutes", "resolution_minutes", "warning_percent")})
