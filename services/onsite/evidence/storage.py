"""Where evidence files live: a small storage interface and its local-folder implementation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol


class EvidenceStorage(Protocol):
    """Stores opaque bytes under a key; the database keeps the key and the SHA-256."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...


class LocalFolderStorage:
    """Files in one folder (from settings: `ONSITE_EVIDENCE_DIR`); keys are generated, never user input."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key {key!r} escapes the evidence folder")
        return path

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a reader never sees half a file

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)
