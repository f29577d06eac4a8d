"""ASGI middleware: correlation id in and out, request body caps, HTTP metrics."""

from __future__ import annotations

import json
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import context
from shared.api.problems import MEDIA_TYPE, PROBLEM_BASE, localise
from shared.i18n import ENGLISH, negotiate
from shared.messages import msg
from shared.observability import HTTP_LATENCY, HTTP_REQUESTS

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UPLOAD_MEDIA_TYPES = (b"multipart/form-data", b"application/offset+octet-stream")


class BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    """Sets the correlation id, refuses oversized bodies (413) and records request metrics."""

    def __init__(self, app: ASGIApp, *, service: str, max_body: int, max_upload: int) -> None:
        self.app = app
        self.service = service
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-correlation-id", b"").decode(errors="ignore")
        cid = incoming if _SAFE_ID.match(incoming) else context.current_correlation_id()
        # Files (multipart forms, and the chunks of resumable uploads) may be larger than other bodies.
        is_upload = headers.get(b"content-type", b"").startswith(UPLOAD_MEDIA_TYPES)
        limit = self.max_upload if is_upload else self.max_body
        declared = headers.get(b"content-length")
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-correlation-id", cid.encode())]
            await send(message)

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        token = context.correlation_id.set(cid)
        try:
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await self._too_large(send_wrapper, scope, limit)
                return
            try:
                await self.app(scope, receive_wrapper, send_wrapper)
            except BodyTooLarge:
                await self._too_large(send_wrapper, scope, limit)
        finally:
            context.correlation_id.reset(token)
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status_holder["status"])).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], path).observe(time.perf_counter() - started)

    @staticmethod
    async def _too_large(send: Send, scope: Scope, limit: int) -> None:
        app = scope.get("app")
        default = getattr(getattr(getattr(app, "state", None), "settings", None), "default_language", ENGLISH)
        accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode(errors="ignore")
        language = negotiate(accept, default)
        body = json.dumps(localise({
            "type": PROBLEM_BASE + "payload-too-large", "title": msg("Payload too large"), "status": 413,
            "detail": msg("the request body exceeds {limit} bytes", limit=limit), "instance": scope.get("path"),
        }, language)).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
                                (b"content-language", language.encode()), (b"vary", b"Accept-Language")]})
        await send({"type": "http.response.body", "body": body})
