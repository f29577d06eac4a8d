"""Signed webhooks (the CRM's): HMAC-SHA256 over `<timestamp>.<raw body>`.

Headers: `X-Signature-Timestamp` (Unix seconds) and `X-Signature` (`sha256=<hex>`). A
request is accepted when its timestamp lies within the replay window and its signature
matches one of the configured secrets (two during rotation), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

from shared import clock
from shared.api.problems import Unauthorized
from shared.messages import msg

TIMESTAMP_HEADER = "X-Signature-Timestamp"
SIGNATURE_HEADER = "X-Signature"
REPLAY_WINDOW_S = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    *, secrets: list[str], timestamp: str | None, signature: str | None, body: bytes,
    now: float | None = None, window_s: int = REPLAY_WINDOW_S,
) -> int:
    """Return the verified timestamp, or raise Unauthorized saying what is wrong."""
    if not timestamp or not signature:
        raise Unauthorized(msg("the webhook needs {timestamp_header} and {signature_header} headers",
            timestamp_header=TIMESTAMP_HEADER, signature_header=SIGNATURE_HEADER))
    try:
        ts = int(timestamp)
    except ValueError:
        raise Unauthorized(msg("{timestamp_header} must be Unix seconds", timestamp_header=TIMESTAMP_HEADER)) from None
    current = clock.timestamp() if now is None else now
    if abs(current - ts) > window_s:
        raise Unauthorized(msg("the webhook timestamp is outside the 5-minute replay window"))
    matched = False
    for secret in secrets:
        # Compare against every secret so timing does not reveal which one matched.
        matched |= hmac.compare_digest(sign(secret, ts, body), signature)
    if not matched:
        raise Unauthorized(msg("the webhook signature does not match"))
    return ts
