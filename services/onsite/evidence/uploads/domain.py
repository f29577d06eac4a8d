"""S19 resumable uploads: the rules of the tus 1.0 subset spoken here (core, creation, checksum,
expiration, termination), as pure functions of headers, offsets and times (no I/O)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime
from uuid import UUID

from shared.messages import msg
from shared.problems import InvalidInput, PayloadTooLarge, Problem

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,checksum,expiration,termination"
CHECKSUM_ALGORITHMS = "sha256"
CHUNK_MEDIA_TYPE = "application/offset+octet-stream"


class UploadOffsetMismatch(Problem):
    """A chunk that does not start where the stored bytes end; `upload_offset` says where to resume."""

    status, slug, title = 409, "upload-offset-mismatch", "Chunk at the wrong offset"

    def __init__(self, detail: str, *, upload_offset: int) -> None:
        super().__init__(detail, upload_offset=upload_offset)


class UploadExpired(Problem):
    """The upload was left unfinished for longer than the expiry setting; start a new one."""

    status, slug, title = 410, "upload-expired", "Upload expired"


class UploadFailed(Problem):
    """The upload ended without evidence (its SHA-256 did not match, or the evidence was refused)."""

    status, slug, title = 410, "upload-failed", "Upload failed"


class ChunkChecksumMismatch(Problem):
    """tus checksum extension: the chunk's bytes do not match its `Upload-Checksum` (nothing stored)."""

    status, slug, title = 460, "checksum-mismatch", "Chunk checksum mismatch"


class UploadHashMismatch(Problem):
    """The whole upload's SHA-256 is not the one declared at creation: the upload is failed, nothing recorded."""

    status, slug, title = 422, "upload-hash-mismatch", "Upload does not match its SHA-256"


def parse_metadata(header: str) -> dict[str, str]:
    """tus creation: `Upload-Metadata` is `key base64(value)` pairs separated by commas (a key alone: empty)."""
    metadata: dict[str, str] = {}
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not key or len(parts) > 2 or not key.isascii():
            raise InvalidInput(msg("Upload-Metadata has a malformed pair {pair!r}",
                pair=pair.strip()), field="Upload-Metadata")
        if key in metadata:
            raise InvalidInput(msg("Upload-Metadata names {key} twice", key=key), field="Upload-Metadata")
        try:
            metadata[key] = base64.b64decode(parts[1], validate=True).decode() if len(parts) == 2 else ""
        except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
            raise InvalidInput(msg("the value of {key} in Upload-Metadata is not base64 of UTF-8 text", key=key),
                               field="Upload-Metadata") from None
    return metadata


def parse_checksum(header: str | None) -> bytes | None:
    """tus checksum: `Upload-Checksum: sha256 <base64 digest>` of one chunk; None when not sent."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm.lower() != CHECKSUM_ALGORITHMS:
        raise InvalidInput(msg("Upload-Checksum algorithm {algorithm} is not supported; use sha256",
            algorithm=algorithm or '(missing)'),
                           field="Upload-Checksum")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except ValueError:  # not base64 (binascii.Error), or not ASCII
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise InvalidInput(msg("Upload-Checksum needs the base64 of a 32-byte SHA-256 digest"), field="Upload-Checksum")
    return digest


def check_chunk_checksum(chunk: bytes, digest: bytes | None) -> None:
    """tus checksum: a chunk whose bytes do not match the digest sent with it is refused (460), not stored."""
    if digest is not None and hashlib.sha256(chunk).digest() != digest:
        raise ChunkChecksumMismatch(msg("the chunk does not match its Upload-Checksum; send it again"))


def check_declared_length(length: int, max_bytes: int) -> None:
    """S19: a resumable upload declares its whole size up front, at most the resumable limit."""
    if length <= 0:
        raise InvalidInput(msg("Upload-Length must be at least 1 byte"), field="Upload-Length")
    if length > max_bytes:
        raise PayloadTooLarge(msg("the upload declares {length} bytes; at most {max_bytes} are accepted",
            length=length, max_bytes=max_bytes))


def next_offset(*, claimed: int, offset: int, length: int, chunk_size: int, chunk_max: int) -> int:
    """S19 resumable: a chunk continues the upload exactly where the stored bytes end (`offset`), fits in
    one request and does not pass the declared length; returns the offset after it.

    A chunk at any other offset is refused naming the offset to resume from (a client that lost a
    response learns what the server kept)."""
    if claimed != offset:
        raise UploadOffsetMismatch(msg("the chunk starts at {claimed} but the server holds {offset} bytes; resume "
            "from {offset}",
            claimed=claimed, offset=offset), upload_offset=offset)
    if chunk_size > chunk_max:
        raise PayloadTooLarge(msg("the chunk has {chunk_size} bytes; send at most {chunk_max} per request",
            chunk_size=chunk_size, chunk_max=chunk_max))
    if offset + chunk_size > length:
        raise PayloadTooLarge(msg("the chunk would end at byte {end}, past the declared Upload-Length {length}",
            end=offset + chunk_size, length=length))
    return offset + chunk_size


def chunk_key(upload_id: UUID, offset: int) -> str:
    """Where a chunk's bytes are stored: by upload and offset (a chunk sent again replaces the one not counted)."""
    return f"uploads/{upload_id}/{offset:012d}"


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """tus expiration: an upload is gone from its expiry on."""
    return now >= expires_at


def http_date(moment: datetime) -> str:
    """`Upload-Expires` as an HTTP date (RFC 9110)."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)
