"""A keyed multipart write is fingerprinted from its parsed form (found by `make fuzz`: the framework parses
the form before the Idempotency-Key dependency runs, and reading the consumed body again was a 500)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import Message

from shared.api.idempotency import request_body

BOUNDARY = "b0undary"


def _multipart(content: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nseen\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def _request(body: bytes) -> Request:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({"type": "http", "method": "POST", "path": "/x", "query_string": b"",
                    "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]}, receive)


async def _fingerprinted_after_the_form(content: bytes) -> tuple[bytes, bytes]:
    request = _request(_multipart(content))
    await request.form()  # as FastAPI does for a form operation, before its dependencies
    body = await request_body(request)
    file = (await request.form())["file"]
    return body, await file.read()  # type: ignore[union-attr]  # the form's "file" is the upload


def test_a_parsed_form_is_fingerprinted_by_its_fields_and_the_file_stays_readable() -> None:
    body, left_for_endpoint = asyncio.run(_fingerprinted_after_the_form(b"\x89PNG one"))
    other, _ = asyncio.run(_fingerprinted_after_the_form(b"\x89PNG two"))
    assert b"note=seen" in body and b"\x89PNG one" in body and body != other
    assert left_for_endpoint == b"\x89PNG one"
