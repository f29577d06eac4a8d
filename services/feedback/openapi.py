"""The problem responses feedback's operations document (RFC 9457 bodies)."""

from __future__ import annotations

from typing import Any

from shared.api.problems import MEDIA_TYPE, PROBLEM_RESPONSES, ProblemDetail

_EXTRA: dict[int | str, dict[str, Any]] = {
    410: {"model": ProblemDetail, "content": {MEDIA_TYPE: {}},
          "description": "The one-time link was already used or has expired"},
    428: {"model": ProblemDetail, "content": {MEDIA_TYPE: {}},
          "description": "The call-centre tool must send an Idempotency-Key"},
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these problem status codes."""
    known = {**PROBLEM_RESPONSES, **_EXTRA}
    return {code: known[code] for code in codes}
