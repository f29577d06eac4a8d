"""Required free text: a reason, a name or a description that is only blanks says nothing.

`NonBlank` is the one constrained type every service's request models use for required text
(reasons, texts, names, scopes): at least one character that is not whitespace. The value is
kept as given (not stripped); OpenAPI shows it as `minLength: 1` with the pattern `\\S`.
Compose it with a `Field(max_length=...)` at the use site.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank (only whitespace)")
    return value


NonBlank = Annotated[
    str,
    StringConstraints(min_length=1),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": r"\S"}),
]
