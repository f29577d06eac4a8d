"""The dispatch service's event writer (its events go to `dispatch.events`)."""

from shared.messaging.outbox import EventWriter

emit = EventWriter("dispatch")
