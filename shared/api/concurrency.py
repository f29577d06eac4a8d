"""Optimistic concurrency: a version column exposed as a weak ETag, checked against If-Match."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol, TypeVar

from fastapi import Header, Response
from pydantic import BaseModel, ConfigDict

from shared.api.problems import PreconditionFailed
from shared.messages import msg

# A change's If-Match header: the ETag the client read (none: the change applies to whatever is current)
IfMatch = Annotated[str | None, Header(description="ETag as read; a stale one gives 412")]


def etag(version: int) -> str:
    return f'W/"{version}"'


class HasVersion(Protocol):
    @property
    def version(self) -> int: ...


class VersionedRead(BaseModel):
    """What a resource changed under If-Match shows besides its own fields: its version (the ETag) and who
    made it and changed it last, when."""

    model_config = ConfigDict(from_attributes=True)
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


Shown = TypeVar("Shown", bound=BaseModel)


def with_etag(model: type[Shown], resource: HasVersion, response: Response) -> Shown:
    """`resource` as the API shows it (`model`), its version as the response's ETag: the If-Match of its next
    change."""
    response.headers["ETag"] = etag(resource.version)
    return model.model_validate(resource)


def check_if_match(if_match: str | None, version: int) -> None:
    """Refuse (412) a write based on a stale read; no If-Match means 'whatever is current'."""
    if if_match is None or if_match.strip() == "*":
        return
    accepted = {tag.strip() for tag in if_match.split(",")}
    if etag(version) not in accepted and f'"{version}"' not in accepted:
        raise PreconditionFailed(
            msg("the resource is at version {version}; reload it and apply your change again", version=version),
            current_etag=etag(version),
        )
