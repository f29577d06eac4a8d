"""Pure rules of the work on site: the task-start gate (S9, S11, S14), values (S13), sign-off (S17)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.onsite.work.domain import (
    PermitView,
    TaskView,
    check_sign_off,
    check_task_done,
    check_task_start,
    evaluate_value,
    safety_missing,
)
from shared.api.problems import GateRefused, InvalidInput
from shared.events.dispatch import CheckSheetItem

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
HV_TASK = TaskView(title="Energise bay 2", permit_scope="cs-hv", live_hv=True, primary_test=True, status="planned")
PLAIN_TASK = TaskView(title="Mount cabinets", permit_scope="cs-mount", live_hv=False, primary_test=False,
                      status="planned")
FULL_SAFETY = {"ppe": True, "helmet": True, "insulated_gloves": True, "insulated_tools": True,
               "tools_test_valid_until": (TODAY + timedelta(days=30)).isoformat(),
               "gloves_test_valid_until": (TODAY + timedelta(days=30)).isoformat(), "barriers": True,
               "safety_watcher": "Li Ming"}


def permit(scope: list[str], start: datetime = NOW - timedelta(days=1), end: datetime = NOW + timedelta(days=1)):
    return PermitView(number="WP-1", scope=scope, valid_from=start, valid_to=end)


def refused(**kwargs) -> list[str]:
    with pytest.raises(GateRefused) as exc:
        check_task_start(**kwargs)
    assert exc.value.extra["gate"] == "task start"
    return exc.value.extra["missing_conditions"]


def test_task_start_refusal_lists_every_missing_condition():
    missing = refused(task=HV_TASK, briefing_held=False, permits=[], safety_answers=None, now=NOW)
    assert missing == [
        "S9: the technical briefing has not been held",
        "S11: no valid work permit covers scope 'cs-hv' now",
        "S14: no safety checklist for this task today",
    ]


def test_a_permit_must_be_valid_now_and_cover_the_task():
    expired = permit(["cs-hv"], NOW - timedelta(days=3), NOW - timedelta(days=1))
    other_scope = permit(["cs-mount"])
    missing = refused(task=HV_TASK, briefing_held=True, permits=[expired, other_scope], safety_answers=FULL_SAFETY,
                      now=NOW)
    assert missing == ["S11: no valid work permit covers scope 'cs-hv' now"]
    check_task_start(task=HV_TASK, briefing_held=True, permits=[expired, permit(["all"])],
                     safety_answers=FULL_SAFETY, now=NOW)


def test_live_hv_and_primary_tests_need_their_safety_measures():
    answers = {"ppe": True, "helmet": False, "insulated_gloves": True, "insulated_tools": False,
               "tools_test_valid_until": (TODAY - timedelta(days=1)).isoformat(), "barriers": False,
               "safety_watcher": " "}
    missing = safety_missing(answers, live_hv=True, primary_test=True, day=TODAY)
    assert missing == [
        "S14: helmet not confirmed",
        "S14: insulated tools not confirmed (live HV work)",
        "S14: test date of the insulated gloves not given (live HV work)",
        f"S14: insulated tools' test expired on {TODAY - timedelta(days=1)} (live HV work)",
        "S14: barriers not confirmed (primary-equipment test)",
        "S14: no named safety watcher (primary-equipment test)",
    ]
    assert safety_missing({"ppe": True, "helmet": True}, live_hv=True, primary_test=False, day=TODAY)[-1] == (
        "S14: test date of the insulated tools not given (live HV work)")
    # PPE and helmet are enough for a plain task.
    assert safety_missing({"ppe": True, "helmet": True}, live_hv=False, primary_test=False, day=TODAY) == []


def test_s14_insulated_gloves_and_tools_each_have_their_own_test_date():
    expired = (TODAY - timedelta(days=1)).isoformat()
    gloves_expired = {**FULL_SAFETY, "gloves_test_valid_until": expired}
    assert safety_missing(gloves_expired, live_hv=True, primary_test=False, day=TODAY) == [
        f"S14: insulated gloves' test expired on {expired} (live HV work)"]
    only_tools_date = {k: v for k, v in FULL_SAFETY.items() if k != "gloves_test_valid_until"}
    assert safety_missing(only_tools_date, live_hv=True, primary_test=False, day=TODAY) == [
        "S14: test date of the insulated gloves not given (live HV work)"]
    assert safety_missing(FULL_SAFETY, live_hv=True, primary_test=False, day=TODAY) == []


def test_task_starts_when_briefed_permitted_and_safe():
    check_task_start(task=HV_TASK, briefing_held=True, permits=[permit(["cs-hv"])], safety_answers=FULL_SAFETY,
                     now=NOW)
    check_task_start(task=PLAIN_TASK, briefing_held=True, permits=[permit(["cs-mount"])],
                     safety_answers={"ppe": True, "helmet": True}, now=NOW)
    started = TaskView(**{**PLAIN_TASK.__dict__, "status": "started"})
    assert refused(task=started, briefing_held=True, permits=[permit(["all"])], safety_answers=FULL_SAFETY,
                   now=NOW) == ["the task is already started"]


RESISTANCE = CheckSheetItem(item_id="r1", text="Loop resistance", kind="value", unit="µΩ", lower_limit=0,
                            upper_limit=120)


def test_values_outside_the_limits_fail_and_units_are_required():
    assert evaluate_value(RESISTANCE, 80.0, "µΩ") is True
    assert evaluate_value(RESISTANCE, 130.0, "µΩ") is False
    with pytest.raises(InvalidInput, match="needs its unit"):
        evaluate_value(RESISTANCE, 80.0, None)
    with pytest.raises(InvalidInput, match="measured in"):
        evaluate_value(RESISTANCE, 80.0, "mΩ")
    with pytest.raises(InvalidInput, match="needs a number"):
        evaluate_value(RESISTANCE, True, "µΩ")
    yes_no = CheckSheetItem(item_id="y", text="Earthing connected", kind="yes_no")
    assert evaluate_value(yes_no, True, None) is True
    assert evaluate_value(yes_no, False, None) is False
    with pytest.raises(InvalidInput):
        evaluate_value(yes_no, 1.0, None)


def test_an_entry_needing_a_witness_cannot_be_signed_off_without_one():
    with pytest.raises(GateRefused) as exc:
        check_sign_off(what="item r1", requires_witness=True, has_witness=False, requires_photo=True,
                       has_evidence=False)
    assert exc.value.extra["missing_conditions"] == [
        "S17: item r1 needs a witness (name, role, signature) before sign-off",
        "S19: item r1 needs a photo before sign-off",
    ]
    check_sign_off(what="item r1", requires_witness=True, has_witness=True)
    with pytest.raises(GateRefused, match="already signed off"):
        check_sign_off(what="item r1", requires_witness=False, has_witness=False, already_signed=True)


def test_a_task_is_done_when_every_item_is_recorded_and_signed_off():
    started = TaskView(**{**HV_TASK.__dict__, "status": "started"})
    photo = CheckSheetItem(item_id="p1", text="Photo of the nameplate", kind="photo")
    with pytest.raises(GateRefused) as exc:
        check_task_done(task=started, items=[RESISTANCE, photo], recorded={"r1": False})
    assert exc.value.extra["missing_conditions"] == [
        "S13: item r1 (Loop resistance) not signed off", "S13: item p1 (Photo of the nameplate) not recorded"]
    check_task_done(task=started, items=[RESISTANCE, photo], recorded={"r1": True, "p1": True})


def test_safety_checklist_day_matters_for_the_tool_test_date():
    answers = {**FULL_SAFETY, "tools_test_valid_until": date(2026, 11, 27).isoformat()}
    assert safety_missing(answers, live_hv=True, primary_test=True, day=date(2026, 11, 27)) == []
    assert len(safety_missing(answers, live_hv=True, primary_test=True, day=date(2026, 11, 28))) == 1
