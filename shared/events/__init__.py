"""Event envelope, payload registry and the catalogue of every event in the system.

Importing this package registers every payload class, so any consumer can parse any event.
"""

from shared.events import dispatch, feedback, onsite, quality
from shared.events.envelope import EventEnvelope
from shared.events.registry import EventPayload, UnknownEventType, event, registry

__all__ = [
    "EventEnvelope",
    "EventPayload",
    "UnknownEventType",
    "dispatch",
    "event",
    "feedback",
    "onsite",
    "quality",
    "registry",
]
