"""Date and time types that accept only the ISO 8601 text their OpenAPI format promises, and the check of
a period's end that request bodies share.

Pydantic's lax mode would also read `0` as 1970-01-01 (a Unix timestamp); a value that is not
a date is a client error, not midnight of 1970. Used by query parameters and request bodies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

from shared.clock import utcnow
from shared.messages import msg

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$")


def _iso(pattern: re.Pattern[str], what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, date):  # datetime is a date too: already parsed
            return value
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"must be an ISO 8601 {what}")
        return value

    return check


IsoDate = Annotated[date, BeforeValidator(_iso(_DATE, "date (YYYY-MM-DD)"))]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso(_DATETIME, "date-time with a time zone"))]


def period_end(end: datetime, start: datetime | None, start_field: str, *, not_past: bool = False) -> datetime:
    """A period's end as a request gives it: after its start (the field `start_field`; none: not given or
    already refused) and, with `not_past`, not before now. For a validator to return."""
    if start is not None and end <= start:
        raise ValueError(msg("must be after {start}", start=start_field))
    if not_past and end < utcnow():
        raise ValueError(msg("must not be in the past"))
    return end
