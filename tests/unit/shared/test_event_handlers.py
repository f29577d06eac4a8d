"""Handlers are registered by event class: the type comes from the declared model."""

from __future__ import annotations

import pytest

from shared.events.dispatch import ServiceDispatched, StaffAdded
from shared.messaging.consumer import EventHandlers


async def _handler(session, envelope, payload) -> None:
    return None


def test_a_handler_registered_by_class_runs_for_its_event_type():
    handlers = EventHandlers()
    handlers.on(ServiceDispatched, StaffAdded)(_handler)
    assert handlers.event_types == {"ServiceDispatched", "StaffAdded"}
    assert handlers.for_type("ServiceDispatched") == [_handler]


@pytest.mark.parametrize("wrong", ["ServiceDispatched", object, 3])
def test_a_type_name_or_anything_else_is_refused(wrong):
    with pytest.raises(TypeError, match="by event class"):
        EventHandlers().on(wrong)


async def _batch_handler(session, envelopes) -> None:
    return None


def test_a_batch_handler_takes_every_event_and_is_copied():
    handlers = EventHandlers()
    assert not handlers.handles("ServiceDispatched")
    handlers.on_batch(_batch_handler)
    assert handlers.handles("ServiceDispatched")
    assert handlers.for_type("ServiceDispatched") == []
    assert handlers.copy().batch == [_batch_handler]
