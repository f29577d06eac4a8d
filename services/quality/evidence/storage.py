"""Evidence bytes in a local folder (from settings); written to a temporary name, then renamed."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from fastapi import UploadFile

from shared.api.problems import Problem

CHUNK = 64 * 1024


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class EvidenceStore:
    """Stores files under `root/<issue id>/<evidence id>`."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    async def save(self, upload: UploadFile, key: str, *, max_bytes: int) -> tuple[int, str]:
        """Write the upload, refusing it (413) past `max_bytes`; returns its size and SHA-256."""
        target = self.path(key)
        partial = target.with_suffix(".partial")
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        handle = await asyncio.to_thread(open, partial, "wb")
        try:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"evidence files may have at most {max_bytes} bytes")
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
        except BaseException:
            handle.close()
            await asyncio.to_thread(partial.unlink, missing_ok=True)
            raise
        handle.close()
        await asyncio.to_thread(os.replace, partial, target)
        return size, digest.hexdigest()

    async def load(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)
