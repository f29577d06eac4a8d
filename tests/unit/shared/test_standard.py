"""The standard's table names only events that exist, and every step once."""

from __future__ import annotations

from shared.events import registry
from shared.standard import STEPS


def test_all_34_steps_in_order():
    assert [s.id for s in STEPS] == [f"S{i}" for i in range(1, 35)]


def test_every_event_named_by_the_standard_is_in_the_catalogue():
    known = {c.event_type for c in registry.all()}
    for step in STEPS:
        assert set(step.events) | set(step.applies_when) <= known, step.id
        assert step.done_by, step.id
