"""`Idempotency-Key` on every POST (and every other write) of every service (decision 0095): the HTTP side.

Field apps queue writes offline and replay them; the CRM and the call-centre tool retry after a
lost answer. Every POST, PUT, PATCH and DELETE accepts `Idempotency-Key` (8-128 visible characters, unique per intended
operation, e.g. a UUID), per caller (the token's subject):

- `check_idempotency_key` (an app-wide dependency) looks the key up before the endpoint runs: a
  stored response is answered again with `Idempotent-Replayed: true` and nothing runs; the same key
  with another method, path or body is refused (422 naming `Idempotency-Key`); a key whose request
  was applied but whose response was not stored (the process died in between) answers 409;
  otherwise the key is marked pending for `shared.db.transaction`, which reserves it in the commit
  that applies the request (`shared.idempotency`).
- `IdempotencyRecorder` (ASGI middleware) stores the response of a request whose key was reserved
  before sending it (status, body, `Location`/`ETag`/`Content-Type`).
- A request that committed nothing (a refusal, a validation error) reserves nothing: its retry runs
  again, so an offline queue replayed out of order succeeds once the step it waited for is done.
- Keys expire `IDEMPOTENCY_KEY_TTL_HOURS` after first use; `purge_expired_keys` deletes them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api.auth import role_requirements
from shared.clock import timestamp, utcnow
from shared.idempotency import RESERVED, IdempotencyRecord, KeyInUse, PendingKey, fingerprint, pending_key
from shared.messages import msg
from shared.problems import Conflict, InvalidInput, Problem

__all__ = [
    "IdempotencyKey",
    "IdempotencyRecord",
    "IdempotencyRecorder",
    "Replay",
    "check_idempotency_key",
    "fingerprint",
    "purge_expired_keys",
]

HEADER = "Idempotency-Key"
# Every write takes a key: an offline queue replays PUTs (a value re-sent adds a reading) as well as POSTs.
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(r"^[\x21-\x7e]{8,128}$")
_STATE = "idempotency"
_KEPT_HEADERS = ("content-type", "location", "etag")
log = logging.getLogger(__name__)
# how long a retry waits for the response of the same request still being answered
_WAIT_SECONDS = 10.0

IdempotencyKey = Annotated[str | None, Header(
    alias=HEADER, min_length=8, max_length=128,
    description="A unique key per intended operation (e.g. a UUID). A retry with the same key and body "
                "returns the first response (`Idempotent-Replayed: true`) and changes nothing; the same key "
                "with another body is refused (422). Keys are kept for `IDEMPOTENCY_KEY_TTL_HOURS`.",
)]


class Replay(Exception):
    """The stored response of an earlier request with this key: answered again, nothing runs."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replay")
        self.record = record

    def response(self) -> Response:
        stored = self.record.response
        body = base64.b64decode(stored["body_b64"]) if "body_b64" in stored else stored.get("body", "").encode()
        headers = {**stored.get("headers", {}), "Idempotent-Replayed": "true"}
        return Response(content=body, status_code=self.record.status_code, headers=headers)


class AppliedWithoutResponse(Conflict):
    slug, title = "idempotency-response-lost", msg("Applied, response not stored")


async def _settled(sessions: async_sessionmaker[AsyncSession], caller: str, key: str,
                   wait_seconds: float) -> IdempotencyRecord | None:
    """The key's record once its response is stored, waiting up to `wait_seconds` for a request with the
    same key still being answered (a client retrying before the first answer arrived); None if none."""
    deadline = timestamp() + wait_seconds
    while True:
        async with sessions() as session:
            record = await session.get(IdempotencyRecord, (caller, key))
        if record is None or record.status_code != RESERVED or timestamp() >= deadline:
            return record
        await asyncio.sleep(0.05)


async def _caller(request: Request) -> str | None:
    """The token's subject, or None when the request has no valid token (the endpoint answers 401)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return "public" if request.scope.get("route") is not None and _is_public(request) else None
    try:
        return str((await request.app.state.token_verifier.verify(token)).subject)
    except Exception:  # an invalid token is the endpoint's 401 to give, not ours
        return None


def _is_public(request: Request) -> bool:
    # Operations without a role requirement (the one-time survey link) are keyed per path alone.
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and not role_requirements(route)


async def request_body(request: Request) -> bytes:
    """The request's body as fingerprinted: its bytes, or for a multipart form the framework already parsed
    (its stream is then consumed, not kept) each field's name and value, a file by name, type and content."""
    try:
        return await request.body()
    except RuntimeError:  # "Stream consumed": a form operation, parsed before its dependencies run
        form = await request.form()  # the parsed form, kept by the request
    parts: list[bytes] = []
    for name, value in form.multi_items():
        if isinstance(value, str):
            parts.append(f"{name}={value}".encode(errors="surrogatepass"))
        else:
            content = await value.read()
            await value.seek(0)  # the endpoint reads the file after us
            parts.append(f"{name}:{value.filename}:{value.content_type}:".encode(errors="surrogatepass") + content)
    return b"\x00".join(parts)


async def check_idempotency_key(request: Request) -> None:
    """App-wide dependency: replay, refuse, or mark the key pending (see the module docstring)."""
    key = request.headers.get(HEADER)
    if request.method not in WRITES or key is None:
        return
    if not _KEY.match(key):
        raise InvalidInput(msg("Idempotency-Key must be 8 to 128 visible ASCII characters"), field=HEADER)
    caller = await _caller(request)
    if caller is None:
        return
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    request_hash = fingerprint(request.method, path, await request_body(request))
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    ttl = timedelta(hours=request.app.state.settings.idempotency_key_ttl_hours)
    async with sessions() as session, session.begin():
        record = await session.get(IdempotencyRecord, (caller, key))
        if record is not None and record.created_at is not None and record.created_at < utcnow() - ttl:
            await session.delete(record)  # expired: the key may be used afresh
            record = None
    if record is not None:
        if record.request_hash != request_hash:
            raise InvalidInput(msg("Idempotency-Key was already used with a different request (method, path "
                                   "or body); use a new key for a new operation"), field=HEADER)
        if record.status_code == RESERVED:
            record = await _settled(sessions, caller, key, _WAIT_SECONDS)
        if record is None:
            raise AppliedWithoutResponse(msg("the request with this Idempotency-Key was undone; send it again"),
                                         field=HEADER)
        if record.status_code == RESERVED:
            raise AppliedWithoutResponse(
                msg("a request with this Idempotency-Key was applied but its response was not stored (or it is "
                    "still being answered); read the resource instead of sending it again"), field=HEADER)
        raise Replay(record)
    pending = PendingKey(caller=caller, key=key, request_hash=request_hash)
    pending_key.set(pending)
    request.scope.setdefault("state", {})[_STATE] = pending


def _stored(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> dict[str, Any]:
    kept = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers if k.decode("latin-1").lower()
            in _KEPT_HEADERS}
    try:
        return {"headers": kept, "body": body.decode()}
    except UnicodeDecodeError:
        return {"headers": kept, "body_b64": base64.b64encode(body).decode()}


class IdempotencyRecorder:
    """ASGI middleware: the response of a keyed write whose key was reserved is stored before it is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES or not any(
                k == b"idempotency-key" for k, _ in scope.get("headers") or ()):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await self._store(scope, held)
                for m in held:
                    await send(m)
                held.clear()

        await self.app(scope, receive, hold)
        for m in held:  # a response that never finished its body: pass on what there is
            await send(m)

    @staticmethod
    async def _store(scope: Scope, held: list[Message]) -> None:
        pending: PendingKey | None = scope.get("state", {}).get(_STATE)
        if pending is None or not pending.reserved:
            return
        start = next(m for m in held if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        sessions: async_sessionmaker[AsyncSession] = scope["app"].state.sessions
        try:
            async with sessions() as session, session.begin():
                await session.execute(
                    update(IdempotencyRecord)
                    .where(col(IdempotencyRecord.caller) == pending.caller, col(IdempotencyRecord.key) == pending.key)
                    .values(status_code=start["status"], response=_stored(start["status"], start["headers"], body)))
        except Exception:  # the request was applied; a retry is told so (409) instead of applying it again
            log.exception("the response of an idempotent request was not stored")


async def purge_expired_keys(sessions: async_sessionmaker[AsyncSession], ttl_hours: int) -> int:
    """Delete the keys older than their time to live; how many went."""
    async with sessions() as session, session.begin():
        result = await session.execute(delete(IdempotencyRecord).where(
            col(IdempotencyRecord.created_at) < utcnow() - timedelta(hours=ttl_hours)))
    return int(getattr(result, "rowcount", 0) or 0)


def replay_response(_request: Request, exc: Exception) -> Response:
    """Exception handler of `Replay`."""
    assert isinstance(exc, Replay)
    return exc.response()


async def raced_response(request: Request, exc: Exception) -> Response:
    """Exception handler of `KeyInUse`: the other request's response, once stored (else the 409)."""
    assert isinstance(exc, KeyInUse)
    record = await _settled(request.app.state.sessions, exc.caller, exc.key, _WAIT_SECONDS)
    if record is not None and record.status_code != RESERVED:
        return Replay(record).response()
    # rendered as every problem of the app is (language, media type)
    render = request.app.exception_handlers[Problem]
    response: Response = await render(request, AppliedWithoutResponse(exc.detail, field=HEADER))
    return response
