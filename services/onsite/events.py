"""The onsite service's event writer (its events go to `onsite.events`); each event is also a change of
its visit in the changes feed (decision 0091)."""

from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.sync.log import note_change
from shared.events import EventEnvelope, EventPayload
from shared.messaging.outbox import EventWriter


class OnsiteEventWriter(EventWriter):
    """Writes an onsite event to the outbox and logs it as a change of its visit, in the same transaction."""

    def __call__(self, session: AsyncSession, payload: EventPayload, *, case_id: object,
                 actor: str) -> EventEnvelope:
        envelope = super().__call__(session, payload, case_id=case_id, actor=actor)
        visit_id = getattr(payload, "visit_id", None)
        if visit_id is not None:
            note_change(session, visit_id=visit_id, what=envelope.type, data=envelope.data, actor=actor,
                        event_id=envelope.id)
        return envelope


emit = OnsiteEventWriter("onsite")
