"""Conditional GETs for the resources clients poll: an `ETag` on every answer, 304 for `If-None-Match`.

A polling (or offline-syncing) client sends back the ETag it last saw; when the representation has
not changed it gets 304 Not Modified with the same ETag and no body (RFC 9110 §13.1.2, §15.4.5).

- The ETag is a strong tag of the JSON body (its SHA-256), or the caller's tag when the resource
  has a version that covers its whole representation (the weak `W/"<version>"` the `If-Match`
  checks of `shared.api.concurrency` accept, so one header serves both).
- `If-None-Match` is compared weakly, as the RFC asks for GET: `W/"x"` matches `"x"`; a list of tags
  matches when any does; `*` matches any current representation.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Header, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shared.api.openapi import RESPONSE_HEADERS

IfNoneMatch = Annotated[str | None, Header(
    max_length=2000, description="ETags of representations the client holds (or `*`): an unchanged resource "
                                 "answers 304 Not Modified without a body")]

# For the `responses` of a route that answers conditional GETs.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {
    "description": "Not Modified: the representation still has the ETag sent in `If-None-Match` (no body)",
    "headers": {"ETag": RESPONSE_HEADERS["ETag"]}}}


def body_etag(body: bytes) -> str:
    """A strong ETag of a representation: the first 32 hex digits of its SHA-256."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _opaque(tag: str) -> str:
    """The opaque part of an entity tag (weak comparison ignores the `W/` prefix)."""
    tag = tag.strip()
    return tag[2:] if tag[:2] in ('W/', 'w/') else tag


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when `If-None-Match` names the current representation (`etag`): answer 304."""
    if if_none_match is None:
        return False
    tags = [t for t in (part.strip() for part in if_none_match.split(",")) if t]
    if "*" in tags:
        return True
    current = _opaque(etag)
    return any(_opaque(t) == current for t in tags)


def conditional(content: BaseModel | Any, if_none_match: str | None, *, etag: str | None = None) -> Response:
    """The JSON answer of a GET with its ETag, or 304 Not Modified when the client holds it already.

    `content` is what the endpoint would return (a response model, serialised the way FastAPI does);
    `etag` the resource's own tag, else the body's.
    """
    body = (content.model_dump_json(by_alias=True).encode() if isinstance(content, BaseModel)
            else JSONResponse(None).render(jsonable_encoder(content)))
    tag = etag or body_etag(body)
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(content=body, media_type="application/json", headers={"ETag": tag})
