"""The onsite service's event writer (its events go to `onsite.events`)."""

from shared.messaging.outbox import EventWriter

emit = EventWriter("onsite")
