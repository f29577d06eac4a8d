"""The problem responses feedback's operations document (RFC 9457 bodies)."""

from __future__ import annotations

from typing import Any

from shared.api.problems import MEDIA_TYPE, PROBLEM_BASE, PROBLEM_RESPONSES, ProblemDetail

_EXTRA: dict[int | str, dict[str, Any]] = {
    410: {"model": ProblemDetail, "content": {MEDIA_TYPE: {}},
          "description": "The one-time link was already used or has expired"},
    428: {"model": ProblemDetail, "content": {MEDIA_TYPE: {}},
          "description": "The call-centre tool must send an Idempotency-Key"},
}


def problem_responses(
    *codes: int, examples: dict[int, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these problem status codes, with an example body where given."""
    known = {**PROBLEM_RESPONSES, **_EXTRA}
    result: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry = dict(known[code])
        if examples and code in examples:
            entry["content"] = {MEDIA_TYPE: {"example": {"type": PROBLEM_BASE + _SLUGS[code], "status": code,
                                                         **examples[code]}}}
        result[code] = entry
    return result


_SLUGS = {403: "forbidden", 409: "conflict", 410: "link-gone", 412: "precondition-failed",
          422: "validation-error", 428: "precondition-required"}

HELD_BY_ANOTHER = {409: {"title": "Conflict", "detail": "the call is held by agent-017 until 2026-12-02T03:15:00Z",
                         "held_by": "agent-017", "lease_expires_at": "2026-12-02T03:15:00Z"}}
OUTCOME_GATE: dict[int, dict[str, Any]] = {
    403: {"title": "Forbidden", "detail": "this call is held by another agent"},
    409: {"title": "Gate refused", "type": PROBLEM_BASE + "gate-refused", "gate": "S34 follow-up call outcome",
          "detail": "S34 follow-up call outcome refused: the customer's survey answers for this call "
                    "(or the outcome 'declined')",
          "missing_conditions": ["the customer's survey answers for this call (or the outcome 'declined')"]},
}
ANSWERS_DO_NOT_FIT = {422: {
    "title": "Invalid input", "detail": "answers do not fit follow-up version 1: overall, engineer",
    "errors": [{"field": "answers.overall", "message": "scale_1_5 question needs a whole number from 1 to 5"},
               {"field": "answers.engineer", "message": "required question not answered"}]}}
