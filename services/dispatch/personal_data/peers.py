"""The other services' personal data endpoints, asked by dispatch's one-request export and erasure
(decision 0093): synchronous questions over HTTP with a time limit per attempt and retries (httpx)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from services.dispatch.settings import DispatchSettings
from shared.api.problems import ServiceUnavailable
from shared.messages import msg

log = logging.getLogger(__name__)

PEERS = ("onsite", "quality", "feedback")
RETRY_BASE_SECONDS = 0.2


def base_url(settings: DispatchSettings, peer: str) -> str:
    return {"onsite": settings.onsite_url, "quality": settings.quality_url,
            "feedback": settings.feedback_url}[peer].rstrip("/")


async def ask_all(settings: DispatchSettings, method: str, path: str, *, authorization: str,
                  params: list[tuple[str, str]] | None = None, json: dict[str, Any] | None = None,
                  transport: httpx.AsyncBaseTransport | None = None) -> dict[str, Any]:
    """Each peer's JSON answer, asked in parallel with the caller's bearer token (the peers check the role and
    audit the read themselves); a peer that does not answer after the retries fails the whole request."""
    async with httpx.AsyncClient(timeout=settings.peer_request_timeout_s, transport=transport,
                                 headers={"Authorization": authorization}) as client:
        answers = await asyncio.gather(*(
            _ask(client, settings, peer, method, path, params=params, json=json) for peer in PEERS))
    return dict(zip(PEERS, answers, strict=True))


async def _ask(client: httpx.AsyncClient, settings: DispatchSettings, peer: str, method: str, path: str, *,
               params: list[tuple[str, str]] | None, json: dict[str, Any] | None) -> Any:
    url = base_url(settings, peer) + path
    why = ""
    for attempt in range(settings.peer_request_attempts):
        if attempt:
            await asyncio.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1))
        try:
            response = await client.request(method, url, params=tuple(params or ()), json=json)
        except httpx.TransportError as exc:  # refused, reset, timed out: worth another attempt
            why = f"{type(exc).__name__}"
            continue
        if response.status_code >= 500:
            why = f"status {response.status_code}"
            continue
        if response.status_code >= 400:
            raise ServiceUnavailable(msg("the {service} service refused the personal data request ({status}): "
                                         "{answer}", service=peer, status=response.status_code,
                                         answer=response.text[:300]), service=peer)
        return response.json()
    log.warning("personal data request to %s failed: %s", peer, why)
    raise ServiceUnavailable(msg("the {service} service did not answer the personal data request after "
                                 "{attempts} attempts ({why}); nothing was lost: repeat the request (it is "
                                 "idempotent)", service=peer, attempts=settings.peer_request_attempts, why=why),
                             service=peer)
