"""Alembic per service: each service keeps its own `migrations/` folder and database.

A service's `migrations/env.py` calls `run_env(tables)`; `upgrade()` runs a service's
migrations programmatically (prestart step, CLI, test fixtures).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import shared.api.idempotency  # noqa: F401  (registers the shared tables)
from shared.messaging.tables import SHARED_TABLES


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(migrations_dir: Path, database_url: str, revision: str = "head") -> None:
    """Bring a service's database to `revision` (run outside any event loop)."""
    command.upgrade(alembic_config(migrations_dir, database_url), revision)


def run_env(service_tables: Iterable[str]) -> None:
    """Body of a service's env.py: migrate only that service's tables and the shared ones."""
    owned = set(service_tables) | SHARED_TABLES
    url = context.config.get_main_option("sqlalchemy.url")

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table":
            return name in owned
        table = getattr(obj, "table", None)
        return table is None or table.name in owned

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection, target_metadata=SQLModel.metadata, include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=SQLModel.metadata, include_object=include_object,
                          literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())
