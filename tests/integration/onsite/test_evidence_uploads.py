"""S19 resumable evidence uploads (tus 1.0) over HTTP: an interrupted transfer resumed by a new client
after a restart of the service, refused chunks and hashes, the size caps, roles, expiry and the purge."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from services.onsite.evidence.uploads.jobs import purge_expired_uploads_job
from services.onsite.evidence.uploads.models import EvidenceUpload
from shared.clock import utcnow
from shared.db import transaction
from tests.integration.conftest import running_app
from tests.integration.onsite.conftest import PNG, Site, events_of

pytestmark = pytest.mark.integration

MAX_SIZE = 64 * 1024  # the resumable limit of these tests (200 MiB by default)
CHUNK_MAX = 16 * 1024  # the largest chunk (one PATCH body)
PROBLEMS = "https://fieldservice.example/problems/"


def photo(size: int, seed: bytes = b"nameplate") -> bytes:
    """A PNG-headed file of `size` bytes with content that differs along its length."""
    body = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(size // 32 + 1))
    return (PNG[:8] + body)[:size]


def stored_chunks(folder: str, upload_id: str) -> list[Path]:
    return list(Path(folder, "uploads", upload_id).glob("*"))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
async def onsite(env, tmp_path_factory):
    """The onsite app with small upload limits (the conftest's fixture, overridden for this module)."""
    folder = tmp_path_factory.mktemp("evidence")
    async with running_app(env, "onsite", consumer_enabled=False, relay_enabled=False, evidence_dir=str(folder),
                           evidence_upload_max_size=MAX_SIZE, evidence_upload_chunk_max_bytes=CHUNK_MAX) as pair:
        yield pair


class Uploader:
    """A tus client of one engineer (or another role) on one visit."""

    def __init__(self, site: Site, client: httpx.AsyncClient, who: str | int = 0, role: str = "engineer") -> None:
        self.site, self.client = site, client
        self.headers = {**site.as_(who, role), "Tus-Resumable": "1.0.0"}
        self.base = f"/visits/{site.visit_id}/evidence-uploads"

    async def create(self, data: bytes, *, sha256: str | None = None, length: int | None = None,
                     filetype: str = "image/png", **target: str) -> httpx.Response:
        metadata = {"filename": "nameplate.png", "filetype": filetype,
                    "sha256": sha256 or hashlib.sha256(data).hexdigest(), "attached_kind": "visit", **target}
        return await self.client.post(self.base, headers={
            **self.headers, "Upload-Length": str(len(data) if length is None else length),
            "Upload-Metadata": ",".join(f"{k} {_b64(v)}" for k, v in metadata.items())})

    async def send(self, location: str, offset: int, chunk: bytes, *, checksum: bytes | None = None,
                   media_type: str = "application/offset+octet-stream") -> httpx.Response:
        headers = {**self.headers, "Upload-Offset": str(offset), "Content-Type": media_type}
        if checksum is not None:
            headers["Upload-Checksum"] = "sha256 " + base64.b64encode(checksum).decode()
        return await self.client.patch(location, content=chunk, headers=headers)

    async def offset(self, location: str) -> httpx.Response:
        return await self.client.head(location, headers=self.headers)


async def test_an_interrupted_upload_resumes_after_a_restart_and_becomes_evidence(env, onsite, new_site):
    app, client = onsite
    site = await new_site(1, sheets=[])
    data = photo(40_000)
    first = Uploader(site, client)
    r = await first.create(data)
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    assert location == f"/visits/{site.visit_id}/evidence-uploads/{r.json()['id']}"
    assert (r.headers["Upload-Offset"], r.json()["status"], r.json()["length"]) == ("0", "receiving", 40_000)
    r = await first.send(location, 0, data[:CHUNK_MAX], checksum=hashlib.sha256(data[:CHUNK_MAX]).digest())
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(CHUNK_MAX), r.text
    # The connection drops here, and the service restarts: a new process, a new client.
    folder = app.state.settings.evidence_dir
    async with running_app(env, "onsite", consumer_enabled=False, relay_enabled=False, evidence_dir=folder,
                           evidence_upload_max_size=MAX_SIZE, evidence_upload_chunk_max_bytes=CHUNK_MAX) as (
            _restarted, new_client):
        second = Uploader(site, new_client)
        r = await second.offset(location)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        assert (r.headers["Upload-Offset"], r.headers["Upload-Length"]) == (str(CHUNK_MAX), "40000")
        assert "Evidence-Id" not in r.headers
        # The first chunk again (its answer was lost): refused, naming where to resume.
        r = await second.send(location, 0, data[:CHUNK_MAX])
        assert r.status_code == 409 and r.json()["type"] == PROBLEMS + "upload-offset-mismatch"
        offset = r.json()["upload_offset"]
        assert offset == CHUNK_MAX
        while offset < len(data):
            r = await second.send(location, offset, data[offset:offset + CHUNK_MAX])
            assert r.status_code == 204, r.text
            offset = int(r.headers["Upload-Offset"])
        evidence_id = r.headers["Evidence-Id"]
        upload = (await new_client.get(location, headers=second.headers)).json()
        assert (upload["status"], upload["offset"], upload["evidence_id"]) == ("completed", 40_000, evidence_id)
        r = await second.send(location, offset, b"")
        assert r.status_code == 409 and r.json()["upload_offset"] == 40_000  # complete: nothing more

    # Recorded exactly as a one-shot upload: listed, downloadable with its hash checked, announced.
    evidence = {e["id"]: e for e in (await site.get("/evidence")).json()["items"]}
    sha256 = hashlib.sha256(data).hexdigest()
    assert (evidence[evidence_id]["sha256"], evidence[evidence_id]["size"]) == (sha256, 40_000)
    assert (evidence[evidence_id]["filename"], evidence[evidence_id]["content_type"]) == ("nameplate.png", "image/png")
    r = await site.get(f"/evidence/{evidence_id}/content")
    assert r.status_code == 200 and r.content == data and r.headers["X-Content-SHA256"] == sha256
    attached = [e for e in await events_of(app, site.case_id, "EvidenceAttached") if e["evidence_id"] == evidence_id]
    assert [(e["sha256"], e["size"]) for e in attached] == [(sha256, 40_000)]
    assert not stored_chunks(folder, upload["id"])  # the chunks are gone once composed



async def test_refused_chunks_hashes_sizes_and_callers(onsite, new_site):
    _app, client = onsite
    site = await new_site(2, sheets=[])
    engineer, teammate = Uploader(site, client), Uploader(site, client, who=1)
    data = photo(20_000)

    r = await client.options(engineer.base, headers=engineer.headers)
    assert r.status_code == 204 and r.headers["Tus-Version"] == "1.0.0"
    assert (r.headers["Tus-Max-Size"], r.headers["Tus-Checksum-Algorithm"]) == (str(MAX_SIZE), "sha256")
    assert set(r.headers["Tus-Extension"].split(",")) == {"creation", "checksum", "expiration", "termination"}

    # Declarations: the size cap, the media type, the target, the protocol version.
    r = await engineer.create(data, length=MAX_SIZE + 1)
    assert r.status_code == 413 and r.json()["type"] == PROBLEMS + "payload-too-large"
    assert (await engineer.create(data, filetype="image/gif")).status_code == 415
    r = await engineer.create(data, attached_kind="milestone")
    assert r.status_code == 422 and r.json()["field"] == "attached_id"
    r = await engineer.create(data, sha256="not-a-hash")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Upload-Metadata.sha256"
    r = await client.post(engineer.base, headers={**site.as_(0), "Upload-Length": "5", "Upload-Metadata": "a"})
    assert r.status_code == 422 and "Tus-Resumable" in r.text

    # A hash mismatch: the last byte fails the upload, and nothing is recorded.
    r = await engineer.create(data, sha256=hashlib.sha256(b"another file").hexdigest())
    location = r.headers["Location"]
    assert (await engineer.send(location, 0, data[:CHUNK_MAX])).status_code == 204
    r = await engineer.send(location, CHUNK_MAX, data[CHUNK_MAX:])
    assert r.status_code == 422 and r.json()["type"] == PROBLEMS + "upload-hash-mismatch", r.text
    r = await client.get(location, headers=engineer.headers)
    assert r.status_code == 410 and r.json()["type"] == PROBLEMS + "upload-failed"
    assert (await engineer.offset(location)).status_code == 410
    assert (await site.get("/evidence")).json()["items"] == []
    # The one-shot path's checks refuse the whole at completion (first bytes too short to judge before):
    # the upload fails, keeping the refusal, and nothing is recorded.
    gif = b"GIF89a" + data[6:100]
    location = (await engineer.create(gif)).headers["Location"]
    assert (await engineer.send(location, 0, gif[:10])).status_code == 204
    r = await engineer.send(location, 10, gif[10:])
    assert r.status_code == 415 and r.json()["detail"] == "the content is not a image/png file", r.text
    r = await client.get(location, headers=engineer.headers)
    assert r.status_code == 410 and "the evidence was refused" in r.json()["detail"]
    assert (await site.get("/evidence")).json()["items"] == []

    # Chunks: the wrong offset, a bad checksum, the wrong media type or first bytes, too large, too long.
    r = await engineer.create(data)
    location = r.headers["Location"]
    r = await engineer.send(location, 100, data[100:200])
    assert r.status_code == 409 and r.json()["upload_offset"] == 0
    r = await engineer.send(location, 0, data[:CHUNK_MAX], checksum=hashlib.sha256(b"other").digest())
    assert r.status_code == 460 and r.json()["type"] == PROBLEMS + "checksum-mismatch"
    assert (await engineer.send(location, 0, data[:100], media_type="application/octet-stream")).status_code == 415
    assert (await engineer.send(location, 0, b"GIF89a" + data[6:100])).status_code == 415
    r = await engineer.send(location, 0, data[:CHUNK_MAX + 1])
    assert r.status_code == 413 and f"at most {CHUNK_MAX}" in r.json()["detail"]
    assert (await engineer.offset(location)).headers["Upload-Offset"] == "0"  # nothing of those was kept
    assert (await engineer.send(location, 0, data[:CHUNK_MAX])).status_code == 204
    r = await engineer.send(location, CHUNK_MAX, data[CHUNK_MAX:] + b"extra")
    assert r.status_code == 413 and "past the declared Upload-Length" in r.json()["detail"]

    # Roles as for evidence: a dispatcher reads, only the engineer who started sends or cancels.
    dispatcher = Uploader(site, client, who="disp-1", role="dispatcher")
    r = await client.get(location, headers=dispatcher.headers)
    assert r.status_code == 200 and r.json()["offset"] == CHUNK_MAX
    assert (await dispatcher.send(location, CHUNK_MAX, data[CHUNK_MAX:])).status_code == 403
    assert (await teammate.send(location, CHUNK_MAX, data[CHUNK_MAX:])).status_code == 403
    assert (await client.delete(location, headers=teammate.headers)).status_code == 403
    outsider = Uploader(site, client, who="eng-elsewhere")
    assert (await outsider.offset(location)).status_code == 404
    r = await client.delete(location, headers=engineer.headers)
    assert r.status_code == 204
    assert (await engineer.offset(location)).status_code == 404  # tus termination


async def test_uploads_expire_and_are_purged_with_their_chunks(onsite, new_site):
    app, client = onsite
    site = await new_site(1, sheets=[])
    engineer = Uploader(site, client)
    data = photo(30_000)
    locations = []
    for _ in range(2):
        r = await engineer.create(data)
        locations.append(r.headers["Location"])
        assert (await engineer.send(locations[-1], 0, data[:CHUNK_MAX])).status_code == 204
    stale, fresh = (location.rsplit("/", 1)[1] for location in locations)
    expiry = timedelta(seconds=app.state.settings.evidence_upload_expiry_s)
    # The first upload's expiry passes: it is gone at once (lazily), before any purge.
    async with transaction(app.state.sessions) as session:
        await session.execute(update(EvidenceUpload).where(EvidenceUpload.id == stale)
                              .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await engineer.offset(locations[0])).status_code == 410
    r = await engineer.send(locations[0], CHUNK_MAX, data[CHUNK_MAX:])
    assert r.status_code == 410 and r.json()["type"] == PROBLEMS + "upload-expired"
    r = await engineer.offset(locations[1])
    assert r.status_code == 200 and r.headers["Upload-Expires"].endswith(" GMT")

    folder = app.state.settings.evidence_dir
    assert stored_chunks(folder, stale) and stored_chunks(folder, fresh)
    await purge_expired_uploads_job(utcnow)(app.state.runtime)  # the service's periodic job: the stale one
    assert (await engineer.offset(locations[0])).status_code == 404
    assert not stored_chunks(folder, stale)
    assert (await engineer.offset(locations[1])).status_code == 200
    await purge_expired_uploads_job(lambda: utcnow() + expiry)(app.state.runtime)  # a day later: all of them
    assert (await engineer.offset(locations[1])).status_code == 404
    assert not stored_chunks(folder, fresh)
