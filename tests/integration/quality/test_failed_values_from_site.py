"""Quality over Kafka sees every failed value measured on site (S13, S25): one issue per failed entry, later
failed readings in its history, passing readings change nothing."""

from __future__ import annotations

import uuid

import pytest

from shared.events.onsite import ProcessDataRecorded
from tests.integration.conftest import read_topic, running_app, wait_async
from tests.integration.quality.conftest import envelope, quality_engineer
from tests.integration.quality.test_quality_kafka import events_of, publish

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def quality(env, tmp_path_factory):
    async with running_app(env, "quality", evidence_dir=str(tmp_path_factory.mktemp("evidence"))) as (app, client):
        yield app, client


def reading(case_id: uuid.UUID, visit_id: uuid.UUID, task_id: uuid.UUID, value: float, passed: bool,
            item_id: str = "r1") -> ProcessDataRecorded:
    return ProcessDataRecorded(
        case_id=case_id, visit_id=visit_id, task_id=task_id, item_id=item_id, value=value, unit="µΩ", passed=passed,
        recorded_by="eng-f1", reading_id=uuid.uuid4(), task_title="Circuit-breaker tests",
        item_text="Main-circuit resistance", lower_limit=0, upper_limit=120, equipment_type="GIS")


async def test_a_failed_value_from_site_opens_one_issue_per_entry_with_every_failed_reading(env, quality):
    _app, c = quality
    case_id, visit_id, task_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = envelope(reading(case_id, visit_id, task_id, 135.0, False), "onsite", case_id, "eng-f1")
    await publish(env, "onsite.events",
                  first, first,  # the same delivery twice
                  envelope(reading(case_id, visit_id, task_id, 98.0, True), "onsite", case_id, "eng-f1"),
                  envelope(reading(case_id, visit_id, task_id, 95.0, True, item_id="r2"), "onsite", case_id, "e"),
                  envelope(reading(case_id, visit_id, task_id, 140.0, False), "onsite", case_id, "eng-f1"))
    owner = quality_engineer(env)

    async def issues():
        r = await c.get("/issues", params={"case_id": str(case_id)}, headers=owner)
        return r.json()["items"]
    found = await wait_async("the failed value to become an issue", issues)
    issue = found[0]
    assert (issue["failure_mode"], issue["source"], issue["severity"], issue["product"]) == (
        "out-of-limits", "onsite", "major", "GIS")
    assert issue["visit_id"] == str(visit_id) and issue["measurement_ref"] == f"{visit_id}/{task_id}/r1"
    assert issue["description"] == ("Check-sheet item r1 (Main-circuit resistance) of task 'Circuit-breaker tests' "
                                    "measured 135.0 µΩ, outside its acceptance limits (at least 0 and at most 120).")

    async def second_failure_in_history():
        history = (await c.get(f"/issues/{issue['id']}/history", headers=owner)).json()
        return [e for e in history if e["kind"] == "failed_reading"]
    later = await wait_async("the second failed reading in the issue's history", second_failure_in_history)
    assert len(later) == 1 and later[0]["data"]["value"] == 140.0
    assert len(await issues()) == 1  # passing readings and the repeated delivery opened nothing

    seen = await read_topic(env, "quality.events", stop_when=lambda ms: "IssueLogged" in events_of(
        ms, "issue_id", issue["id"]))
    fact = events_of(seen, "issue_id", issue["id"])["IssueLogged"]
    assert (fact["visit_id"], fact["failure_mode"]) == (str(visit_id), "out-of-limits")
