"""Registry of typed event payloads, keyed by (type, version).

Payload changes are additive (new optional fields); a breaking change is a new version class
registered under the same type. Payloads ignore unknown fields so that an older consumer reads
a newer producer's additive change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class UnknownEventType(LookupError):
    """An envelope names a (type, version) that no payload class is registered for."""


class EventPayload(BaseModel):
    """Base of every event payload. Subclasses are registered with `@event(type, version)`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int]
    producer: ClassVar[str]
    # Fields that are credentials (a one-time link's URL): published for the one consumer that needs them,
    # never stored beyond it. Dispatch's timeline, webhook bodies and notification rows keep REDACTED
    # instead, and the outbox forgets them once published (see `redact`).
    secret_fields: ClassVar[tuple[str, ...]] = ()


class CaseEvent(EventPayload):
    """Base of the events about one service case: every one names it (the envelope's subject)."""

    case_id: UUID


P = TypeVar("P", bound=type[EventPayload])


class EventRegistry:
    def __init__(self) -> None:
        self._types: dict[tuple[str, int], type[EventPayload]] = {}

    def register(self, type_: str, version: int, producer: str) -> Callable[[P], P]:
        def decorate(cls: P) -> P:
            key = (type_, version)
            if key in self._types and self._types[key] is not cls:
                raise ValueError(f"event {type_} v{version} registered twice")
            cls.event_type = type_
            cls.event_version = version
            cls.producer = producer
            self._types[key] = cls
            return cls

        return decorate

    def get(self, type_: str, version: int) -> type[EventPayload]:
        try:
            return self._types[(type_, version)]
        except KeyError:
            raise UnknownEventType(f"unknown event type {type_!r} version {version}") from None

    def parse(self, type_: str, version: int, data: dict[str, Any]) -> EventPayload:
        return self.get(type_, version).model_validate(data)

    def secret_fields(self, type_: str, version: int) -> tuple[str, ...]:
        """The secret fields of an event type (none for a type this build does not know)."""
        found = self._types.get((type_, version))
        return found.secret_fields if found is not None else ()

    def all(self) -> list[type[EventPayload]]:
        return sorted(self._types.values(), key=lambda c: (c.producer, c.event_type, c.event_version))


registry = EventRegistry()


REDACTED = "[redacted]"


def redact(type_: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with the values of the event type's secret fields replaced by REDACTED (a copy; the same
    object when the type has none)."""
    secret = [name for name in registry.secret_fields(type_, version) if data.get(name) is not None]
    if not secret:
        return data
    return {**data, **dict.fromkeys(secret, REDACTED)}


def event(type_: str, *, version: int = 1, producer: str) -> Callable[[P], P]:
    """Class decorator: register a payload model under an explicit type and version."""
    return registry.register(type_, version, producer)
