"""GET /personal-data says truthfully what it takes and answers (found by `make fuzz`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.quality.privacy import PRIVACY
from shared.api.personal_data import personal_data_router


def _operation() -> dict[str, Any]:
    app = FastAPI()
    app.include_router(personal_data_router(PRIVACY))
    operation: dict[str, Any] = app.openapi()["paths"]["/personal-data"]["get"]
    return operation


def test_names_and_cases_are_lists_of_text_never_null() -> None:
    # `known_as=true` is the name "true": a query value is text, so a schema naming null would have
    # Schemathesis expect a refusal for it.
    schemas = {p["name"]: p["schema"] for p in _operation()["parameters"] if p["in"] == "query"}
    for name in ("known_as", "case"):
        assert schemas[name]["type"] == "array" and "anyOf" not in schemas[name], schemas[name]
        assert schemas[name]["items"] == {"type": "string"}


def test_a_request_line_too_long_for_the_server_is_documented_as_its_plain_text_400() -> None:
    # 2,000 cases of a few bytes each pass the 64 KiB the HTTP server reads: it answers 400 itself.
    assert _operation()["responses"]["400"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
