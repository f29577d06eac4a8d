"""The two shapes every service's API models take: a request body and a row as the API shows it."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict


class StrictBody(BaseModel):
    """A request body (or a part of one): a field the operation does not know is refused (422), not silently
    dropped. A body with more config (e.g. `json_schema_extra`) extends it and adds only that key."""

    model_config = ConfigDict(extra="forbid")


class RowRead(BaseModel):
    """A row as the API shows it: read from the table's attributes, its id first."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
