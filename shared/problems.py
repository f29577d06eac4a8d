"""The errors domain rules raise: RFC 9457 problems without the web layer.

Domain modules import these (no FastAPI, no I/O); `shared.api.problems` turns them into
`application/problem+json` responses and re-exports them for routers and services.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.messages import Joined, msg

PROBLEM_BASE = "https://fieldservice.example/problems/"


class Problem(Exception):
    """Base of domain errors that map to a problem response."""

    status = 400
    slug = "bad-request"
    title: str = msg("Bad request")

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        return {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            **self.extra,
        }


class NotFound(Problem):
    status, slug, title = 404, "not-found", msg("Not found")


class Conflict(Problem):
    status, slug, title = 409, "conflict", msg("Conflict")


class InvalidInput(Problem):
    status, slug, title = 422, "validation-error", msg("Invalid input")


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", msg("Precondition failed")


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", msg("Precondition required")


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", msg("Forbidden")


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", msg("Unauthorized")


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", msg("Payload too large")


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", msg("Unsupported media type")


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", msg("Service unavailable")


class GateRefused(Problem):
    """A step of the standard refused because conditions are not met (lists every one)."""

    status, slug, title = 409, "gate-refused", msg("Gate refused")

    def __init__(self, gate: str, missing: Sequence[str], detail: str | None = None, **extra: Any) -> None:
        super().__init__(
            detail or msg("{gate} refused: {conditions}", gate=gate, conditions=Joined(missing, "; ")),
            gate=gate,
            missing_conditions=missing,
            **extra,
        )
