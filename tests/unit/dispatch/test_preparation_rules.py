"""S2, S4, S5, S6, S7 and S22-S24 rules, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from services.dispatch.cases.models import CaseStatus
from services.dispatch.conditions.domain import conditions_confirmed, postponement_due
from services.dispatch.conditions.models import ConditionCall, ConditionCallCreate
from services.dispatch.delays.domain import check_reschedule
from services.dispatch.plans.domain import check_approval, check_editable
from services.dispatch.preparation.domain import fresh_items, is_complete, missing_items
from services.dispatch.routing.domain import check_answer
from services.dispatch.specifications.domain import fits, instantiate, newest, preventive_item
from services.dispatch.specifications.models import CheckSheetItemIn, SpecificationTemplate
from shared.api.problems import GateRefused

NOW = datetime.now(UTC)


def call(outcome: str, at: datetime, new_date: date | None = None) -> ConditionCall:
    # the stated call time may be earlier than the recording: the recording order decides
    return ConditionCall(case_id=uuid4(), outcome=outcome, called_at=at - timedelta(hours=1), details={},
                         new_date=new_date, recorded_by="d1", created_at=at)


def test_s2_the_latest_call_decides_and_postponements_come_due_on_their_date():
    postponed = call("postponed", NOW - timedelta(days=3), NOW.date() + timedelta(days=1))
    assert not conditions_confirmed([postponed])
    assert conditions_confirmed([postponed, call("confirmed", NOW)])
    assert not conditions_confirmed([call("confirmed", NOW - timedelta(days=5)), postponed])
    assert not postponement_due(postponed, NOW.date())
    assert postponement_due(postponed, NOW.date() + timedelta(days=1))
    assert postponement_due(postponed, NOW.date() + timedelta(days=9))


def invalid_fields(model, **data) -> list[str]:
    with pytest.raises(ValidationError) as invalid:
        model(**data)
    return [".".join(str(p) for p in e["loc"]) for e in invalid.value.errors()]


def test_s2_a_call_needs_what_its_outcome_requires_and_names_the_field():
    assert invalid_fields(ConditionCallCreate, outcome="confirmed", called_at=NOW) == ["conditions"]
    assert invalid_fields(ConditionCallCreate, outcome="postponed", called_at=NOW) == ["reason", "new_date"]
    assert invalid_fields(ConditionCallCreate, outcome="postponed", called_at=NOW, reason="site not ready",
                          new_date=NOW.date() - timedelta(days=1)) == ["new_date"]
    assert invalid_fields(ConditionCallCreate, outcome="postponed", called_at=NOW + timedelta(days=1),
                          reason="r", new_date=NOW.date()) == ["called_at"]
    ok = ConditionCallCreate(outcome="postponed", called_at=NOW, reason="site not ready",
                             new_date=NOW.date() + timedelta(days=7))
    assert ok.new_date > NOW.date()


def test_s4_approval_needs_a_submitted_plan_and_another_person():
    check_approval("submitted", "author", "head")
    with pytest.raises(GateRefused) as refused:
        check_approval("draft", "author", "author")
    assert len(refused.value.extra["missing_conditions"]) == 2
    with pytest.raises(GateRefused):
        check_editable("approved")


def template(tid: str, version: int, difficulty: str | None = None, items: list | None = None):
    return SpecificationTemplate(template_id=tid, version=version, kind="check_sheet", title=tid,
                                 equipment_type="GIS", difficulty=difficulty, items=items or [], created_by="q",
                                 created_at=NOW)


def test_s5_templates_fit_by_equipment_and_difficulty_and_the_newest_version_is_used():
    assert fits(template("a", 1), equipment_type="GIS", difficulty="high")
    assert fits(template("a", 1, "high"), equipment_type="GIS", difficulty="high")
    assert not fits(template("a", 1, "low"), equipment_type="GIS", difficulty="high")
    assert not fits(template("a", 1), equipment_type="transformer", difficulty="high")
    chosen = newest([template("a", 1), template("a", 3), template("b", 2), template("a", 2)])
    assert [(t.template_id, t.version) for t in chosen] == [("a", 3), ("b", 2)]
    item = CheckSheetItemIn(item_id="sf6", text="SF6 pressure", kind="value", unit="MPa", lower_limit=0.5,
                            upper_limit=0.7).model_dump()
    sheets = instantiate([template("a", 3, items=[item, preventive_item(uuid4(), "Check relay")])], uuid4())
    assert sheets[0].template_version == 3 and sheets[0].items[0].unit == "MPa"
    assert sheets[0].items[1].kind == "yes_no"


def test_s5_check_items_are_consistent():
    assert invalid_fields(CheckSheetItemIn, item_id="x", text="t", kind="value") == ["unit"]
    assert invalid_fields(CheckSheetItemIn, item_id="x", text="t", kind="value", unit="V", lower_limit=2,
                          upper_limit=1) == ["upper_limit"]
    assert invalid_fields(CheckSheetItemIn, item_id="x", text="t", kind="yes_no", lower_limit=1) == ["lower_limit"]
    assert CheckSheetItemIn(item_id="w", text="Witness HV test", kind="witness").requires_witness


def test_s6_complete_only_when_every_item_is_ticked():
    items = fresh_items()
    assert not is_complete(items) and len(missing_items(items)) == 6
    for i in items:
        i["done"] = True
    assert is_complete(items) and missing_items(items) == []


def test_s7_both_notifications_are_required():
    check_reschedule(CaseStatus.DISPATCHED, NOW, NOW)
    with pytest.raises(GateRefused) as refused:
        check_reschedule(CaseStatus.ON_SITE, None, None)
    assert len(refused.value.extra["missing_conditions"]) == 3


def test_routed_items_are_answered_only_once_routed():
    check_answer("assigned")
    with pytest.raises(GateRefused):
        check_answer("raised")
