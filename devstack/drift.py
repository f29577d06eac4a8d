"""Do the models match the migrations? Each service's migrations run on an empty database, and
Alembic's comparison lists what the models declare that the migrated schema lacks (or the reverse).

`fieldservice migrations-check` (run by `make lint`) starts its own PostgreSQL on a free port
unless POSTGRES_URL names a server, and fails listing every difference.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from devstack.servers import PostgresServer, free_port
from devstack.stack import SERVICES, migrate, plain_dsn
from shared.migrations import include_owned, service_tables


def _differences(connection: Connection, service: str) -> list[Any]:
    context = MigrationContext.configure(connection, opts={
        "include_object": include_owned(service_tables(service)), "compare_type": True,
        "compare_server_default": False})
    return list(compare_metadata(context, SQLModel.metadata))


async def _on_server(server_url: str, statement: str) -> None:
    """One statement on the server's maintenance database (CREATE / DROP DATABASE run outside transactions)."""
    conn = await asyncpg.connect(plain_dsn(server_url.rstrip("/")) + "/postgres", timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _compare(database_url: str, service: str) -> list[Any]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_differences, service)
    finally:
        await engine.dispose()


def service_drift(server_url: str, service: str) -> list[str]:
    """The differences between a service's models and its migrated schema, on a fresh database."""
    name = f"drift_{service}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_on_server(server_url, f'CREATE DATABASE "{name}"'))
    url = f"{server_url.rstrip('/')}/{name}"
    try:
        migrate(service, url)
        return [repr(d) for d in asyncio.run(_compare(url, service))]
    finally:
        asyncio.run(_on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drift(server_url: str | None = None) -> dict[str, list[str]]:
    """Every service's drift (empty lists when the models match the migrations)."""
    postgres, tmp = None, None
    if server_url is None:
        tmp = Path(tempfile.mkdtemp(prefix="fieldservice-drift-"))
        postgres = PostgresServer(tmp / "postgres", free_port())
        postgres.start(stdout=open(tmp / "postgres.log", "wb"))  # noqa: SIM115
        server_url = postgres.url
    try:
        return {spec.name: service_drift(server_url, spec.name) for spec in SERVICES}
    finally:
        if postgres is not None:
            postgres.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
