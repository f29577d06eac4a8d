"""Pure SLA clock rules: deadlines move with pauses; warning before, breach at the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.quality.sla.domain import SlaClock, resumed

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def clock(**kw) -> SlaClock:
    return SlaClock(started_at=T0, target=timedelta(hours=10), warning_percent=80, **kw)


def test_running_then_warning_then_breached():
    c = clock()
    assert c.due_at == T0 + timedelta(hours=10) and c.warn_at == T0 + timedelta(hours=8)
    assert c.state(T0 + timedelta(hours=7)) == "running"
    assert c.state(T0 + timedelta(hours=8)) == "warning"
    assert c.state(T0 + timedelta(hours=10)) == "breached"


def test_a_paused_clock_neither_warns_nor_breaches_and_its_deadline_moves():
    assert clock(paused_since=T0 + timedelta(hours=1)).state(T0 + timedelta(days=3)) == "paused"
    total = resumed(timedelta(0), T0 + timedelta(hours=1), T0 + timedelta(hours=4))
    c = clock(paused_for=total)
    assert c.due_at == T0 + timedelta(hours=13)
    assert c.state(T0 + timedelta(hours=12)) == "warning"


def test_a_stopped_clock_is_met_or_breached():
    assert clock(stopped_at=T0 + timedelta(hours=2)).state(T0 + timedelta(days=9)) == "met"
    assert clock(stopped_at=T0 + timedelta(hours=11)).state(T0 + timedelta(days=9)) == "breached"
