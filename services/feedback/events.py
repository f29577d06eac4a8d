"""The feedback service's event writer (its events go to `feedback.events`)."""

from shared.messaging.outbox import EventWriter

emit = EventWriter("feedback")
