"""What the local stack is made of: the four services, their ports, databases and migrations."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int

    @property
    def app(self) -> str:
        return f"services.{self.name}.main:create_app"

    @property
    def migrations_dir(self) -> Path:
        return ROOT / "services" / self.name / "migrations"

    @property
    def env_prefix(self) -> str:
        return self.name.upper()


SERVICES = (
    ServiceSpec("dispatch", 8001),
    ServiceSpec("onsite", 8002),
    ServiceSpec("quality", 8003),
    ServiceSpec("feedback", 8004),
)
BY_NAME = {s.name: s for s in SERVICES}


def ports_from_env() -> dict[str, int]:
    """Ports of a running stack: <SERVICE>_PORT, else the defaults 8001-8004."""
    return {s.name: int(os.environ.get(f"{s.env_prefix}_PORT", s.port)) for s in SERVICES}


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_databases(server_url: str, names: list[str]) -> None:
    """Create the per-service databases on a server if they do not exist yet."""
    conn = await asyncpg.connect(plain_dsn(server_url.rstrip("/")) + "/postgres", timeout=10)
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def migrate(service: str, database_url: str) -> None:
    """Run a service's Alembic migrations to head (blocking; call outside an event loop)."""
    from shared.migrations import upgrade

    upgrade(BY_NAME[service].migrations_dir, database_url)


async def migrate_async(service: str, database_url: str) -> None:
    await asyncio.to_thread(migrate, service, database_url)
