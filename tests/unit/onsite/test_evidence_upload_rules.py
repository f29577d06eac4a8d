"""S19 resumable uploads: the tus offset, range, metadata, checksum and expiry rules (no I/O)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.onsite.evidence.uploads import domain
from services.onsite.evidence.uploads.service import declaration
from shared.problems import InvalidInput, PayloadTooLarge


def test_a_chunk_continues_exactly_where_the_stored_bytes_end() -> None:
    assert domain.next_offset(claimed=0, offset=0, length=10, chunk_size=4, chunk_max=8) == 4
    assert domain.next_offset(claimed=4, offset=4, length=10, chunk_size=6, chunk_max=8) == 10
    assert domain.next_offset(claimed=4, offset=4, length=10, chunk_size=0, chunk_max=8) == 4  # nothing new


@pytest.mark.parametrize("claimed", [0, 3, 5, 11])
def test_a_chunk_elsewhere_is_refused_naming_the_offset_to_resume_from(claimed: int) -> None:
    with pytest.raises(domain.UploadOffsetMismatch) as refused:
        domain.next_offset(claimed=claimed, offset=4, length=10, chunk_size=1, chunk_max=8)
    assert refused.value.status == 409 and refused.value.extra["upload_offset"] == 4


def test_a_chunk_may_not_pass_the_declared_length_nor_the_request_limit() -> None:
    with pytest.raises(PayloadTooLarge, match="past the declared Upload-Length 10"):
        domain.next_offset(claimed=8, offset=8, length=10, chunk_size=3, chunk_max=8)
    with pytest.raises(PayloadTooLarge, match="at most 8 per request"):
        domain.next_offset(claimed=0, offset=0, length=100, chunk_size=9, chunk_max=8)


def test_the_declared_length_is_positive_and_within_the_resumable_limit() -> None:
    domain.check_declared_length(200, 200)
    with pytest.raises(PayloadTooLarge):
        domain.check_declared_length(201, 200)
    with pytest.raises(InvalidInput):
        domain.check_declared_length(0, 200)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_upload_metadata_pairs_are_decoded_and_validated() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    header = f"filetype {_b64('image/png')},sha256 {_b64(sha.upper())},attached_kind {_b64('visit')},flag"
    assert domain.parse_metadata(header)["flag"] == ""
    declared = declaration(header.removesuffix(",flag") + f",filename {_b64('铭牌.png')}")
    assert (declared.filetype, declared.sha256, declared.filename) == ("image/png", sha, "铭牌.png")
    for bad in ("filetype not-base64!", "a 1 2", "filetype aQ==,filetype aQ==", "", "filetype é", "x /w=="):
        with pytest.raises(InvalidInput):
            domain.parse_metadata(bad)
    with pytest.raises(InvalidInput) as refused:
        declaration(f"filetype {_b64('image/png')},sha256 {_b64('abc')},attached_kind {_b64('visit')}")
    assert [e["field"] for e in refused.value.extra["errors"]] == ["Upload-Metadata.sha256"]


def test_a_chunk_checksum_is_sha256_in_base64_and_must_match() -> None:
    digest = hashlib.sha256(b"chunk").digest()
    assert domain.parse_checksum(f"sha256 {base64.b64encode(digest).decode()}") == digest
    assert domain.parse_checksum(None) is None
    domain.check_chunk_checksum(b"chunk", digest)
    domain.check_chunk_checksum(b"chunk", None)
    with pytest.raises(domain.ChunkChecksumMismatch) as refused:
        domain.check_chunk_checksum(b"chunk!", digest)
    assert refused.value.status == 460
    for bad in ("md5 AAAA", "sha256 !!", "sha256 é", "sha256 " + base64.b64encode(b"short").decode()):
        with pytest.raises(InvalidInput):
            domain.parse_checksum(bad)


def test_expiry_and_the_places_of_chunks() -> None:
    at = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert not domain.is_expired(at, at - timedelta(seconds=1)) and domain.is_expired(at, at)
    assert domain.http_date(at) == "Sun, 29 Nov 2026 08:00:00 GMT"
    upload_id = uuid.UUID(int=1)
    assert domain.chunk_key(upload_id, 1024) == f"uploads/{upload_id}/000000001024"
