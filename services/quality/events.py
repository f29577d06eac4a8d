"""The quality service's event writer (its events go to `quality.events`)."""

from shared.messaging.outbox import EventWriter

emit = EventWriter("quality")
