"""Alembic per service: each service keeps its own `migrations/` folder and database.

A service's `migrations/env.py` calls `run_env(tables)`; `upgrade()` runs a service's
migrations programmatically (prestart step, CLI, test fixtures).
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Table, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import shared.api.idempotency  # noqa: F401  (registers the shared tables)
from shared.api import personal_data  # noqa: F401  (registers the shared personal data tables)
from shared.messaging.tables import SHARED_TABLES


def service_tables(service: str) -> frozenset[str]:
    """The tables of a service's database, derived from its models: every `models` module under
    `services/<service>/` is imported and each mapped class defined there names its table."""
    package = importlib.import_module(f"services.{service}")
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        if module.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(module.name)
    prefix = f"{package.__name__}."
    registry = SQLModel._sa_registry
    return frozenset(mapper.local_table.name for mapper in registry.mappers
                     if mapper.class_.__module__.startswith(prefix) and isinstance(mapper.local_table, Table))


def include_owned(owned: Iterable[str]) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's `include_object` for a service: its own tables (and their indexes) and the shared ones."""
    tables = set(owned) | SHARED_TABLES

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table":
            return name in tables
        table = getattr(obj, "table", None)
        return table is None or table.name in tables

    return include_object


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
    include_object = include_owned(service_tables)
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("the Alembic configuration names no sqlalchemy.url (see alembic_config)")

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
