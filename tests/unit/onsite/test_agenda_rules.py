"""An engineer's agenda (decision 0087): the duties due per site-local day and whether they are done."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.onsite.agenda import domain
from shared.problems import InvalidInput
from shared.site_calendar import period_days

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVERY_DAY = range(7)
TASK = uuid.uuid4()


def at(day: int, hour: int) -> datetime:
    return datetime(2027, 3, day, hour, tzinfo=UTC)


def d(day: int) -> date:
    return date(2027, 3, day)


def visit(**kw) -> domain.VisitFacts:
    base = dict(visit_id=uuid.uuid4(), case_id=uuid.uuid4(), crm_reference="R-1", site_name="Substation 7",
                region="north", status="on_site", zone=SHANGHAI, planned_start=at(1, 0), planned_end=at(5, 0),
                arrived_at=at(1, 1), first_arrival=at(1, 1))
    return domain.VisitFacts(**{**base, **kw})


def kinds(duties) -> list[tuple[str, bool]]:
    return [(x.kind, x.done) for x in duties]


def test_every_working_day_on_site_has_sign_in_log_and_sign_out():
    assert kinds(domain.duties(visit(), d(2), d(2), EVERY_DAY)) == [
        ("sign_in", False), ("daily_log", False), ("sign_out", False)]


def test_a_day_already_done_shows_each_duty_done():
    task = domain.TaskFacts(TASK, "Circuit-breaker tests", "started", started_at=at(1, 2))
    v = visit(tasks=(task,), signed_in=frozenset({d(2)}), signed_out=frozenset({d(2)}), logged=frozenset({d(2)}),
              checklists=frozenset({(TASK, d(2))}))
    assert kinds(domain.duties(v, d(2), d(3), EVERY_DAY)) == [
        ("sign_in", True), ("safety_checklist", True), ("daily_log", True), ("sign_out", True)]
    # the next day nothing is done yet
    assert not any(x.done for x in domain.duties(v, d(3), d(3), EVERY_DAY))


def test_a_safety_checklist_is_due_only_while_a_task_is_in_progress():
    done = domain.TaskFacts(TASK, "Mounting", "done", started_at=at(1, 2), done_at=at(2, 4))
    v = visit(tasks=(done,))
    assert "safety_checklist" in [x.kind for x in domain.duties(v, d(2), d(4), EVERY_DAY)]
    assert "safety_checklist" not in [x.kind for x in domain.duties(v, d(3), d(4), EVERY_DAY)]
    planned = domain.TaskFacts(TASK, "Tests", "planned", planned_start=at(6, 0), planned_end=at(7, 0))
    v = visit(tasks=(planned,), planned_end=at(8, 0))
    assert "safety_checklist" not in [x.kind for x in domain.duties(v, d(5), d(4), EVERY_DAY)]
    assert "safety_checklist" in [x.kind for x in domain.duties(v, d(6), d(4), EVERY_DAY)]


def test_no_sign_in_on_a_day_off_and_no_duties_before_arrival():
    sunday = d(7)
    assert sunday.weekday() == 6
    v = visit(planned_end=at(9, 0))
    assert domain.duties(v, sunday, d(2), range(6)) == ()
    late = visit(arrived_at=at(3, 1))
    assert domain.duties(late, d(2), d(4), EVERY_DAY) == ()  # a past day before they arrived


def test_the_customer_report_is_due_by_the_plans_period_until_sent():
    v = visit(report_period_days=3, planned_end=at(20, 0))  # arrived on the 1st (site day)
    assert not domain.report_due(v, d(3))
    assert domain.report_due(v, d(4)) and domain.report_due(v, d(5))
    sent = visit(report_period_days=3, planned_end=at(20, 0), reports_sent=(at(5, 3),))
    report = [x for x in domain.duties(sent, d(5), d(6), EVERY_DAY) if x.kind == "customer_report"]
    assert report == [domain.Duty("customer_report", "S16", True)]
    assert not domain.report_due(sent, d(6)) and domain.report_due(sent, d(8))
    assert not domain.report_due(visit(), d(9))  # onsite does not know the period: never due


def test_site_local_days_not_utc():
    # arrival 23:00 UTC on the 1st is 07:00 on the 2nd in Shanghai
    v = visit(arrived_at=at(1, 23), first_arrival=at(1, 23), planned_start=at(1, 23))
    days = domain.agenda([v], [d(1), d(2)], d(2), EVERY_DAY)
    assert [len(x.visits) for x in days] == [0, 1]
    assert days[1].visits[0].arrived


def test_the_agenda_lists_visits_and_pending_tasks_per_day():
    task = domain.TaskFacts(TASK, "Tests", "done", started_at=at(2, 1), done_at=at(3, 2))
    v = visit(tasks=(task,), status="completed", completed_at=at(4, 2))
    days = domain.agenda([v], [d(n) for n in range(1, 7)], d(6), EVERY_DAY)
    assert [len(x.visits) for x in days] == [1, 1, 1, 1, 0, 0]
    assert [len(x.visits[0].tasks_pending) for x in days[:4]] == [0, 1, 0, 0]  # done on the 3rd: not pending that day


def test_the_period_is_bounded():
    with pytest.raises(InvalidInput):
        period_days(d(1), date(2027, 5, 2))
    assert len(period_days(d(1), d(7))) == 7
