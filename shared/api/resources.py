"""One way to load a resource by its key or answer 404, and one way to record that it changed.

Every service reads its resources the same way (optionally locking the row for a change that
follows) and bumps the same version column its ETag is built from (`shared.api.concurrency`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, inspect, select
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import utcnow
from shared.messages import msg
from shared.problems import NotFound

M = TypeVar("M", bound=SQLModel)


async def get_or_404(session: AsyncSession, model: type[M], key: object, *, what: str,
                     within: ColumnElement[bool] | None = None, where: str = "",
                     for_update: bool = False) -> M:
    """The row of `model` whose primary key is `key`, locked `FOR UPDATE` when asked; else a 404
    naming it ("service case <key> does not exist").

    `within` narrows the search to a parent (a task of this visit), `where` names that parent in the
    404 ("on this visit"): a row of another parent is answered as missing.
    """
    primary_key = inspect(model).primary_key[0]
    stmt = select(model).where(primary_key == key)
    if within is not None:
        stmt = stmt.where(within)
    if for_update:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(msg("{what} {key} does not exist {where}", what=what, key=key, where=where) if where
                       else msg("{what} {key} does not exist", what=what, key=key))
    return found


class Versioned(Protocol):
    """A resource with an optimistic-concurrency version and the audit columns of its last change
    (empty until the first change on some resources: read as optional, always written)."""

    version: int

    @property
    def updated_at(self) -> datetime | None: ...
    @updated_at.setter
    def updated_at(self, value: datetime) -> None: ...

    @property
    def updated_by(self) -> str | None: ...
    @updated_by.setter
    def updated_by(self, value: str) -> None: ...


def bump_version(resource: Versioned, actor: str, *, at: datetime | None = None) -> None:
    """Record a change: the next version (a new ETag) and who changed it when (now unless given)."""
    resource.version += 1
    resource.updated_at = at if at is not None else utcnow()
    resource.updated_by = actor
