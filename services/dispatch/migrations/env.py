"""Alembic environment of the dispatch service: its own tables plus the shared outbox tables."""

from sqlmodel import SQLModel

import services.dispatch.cases.models  # noqa: F401  (registers the tables)
from services.dispatch.tables import TABLES
from shared.migrations import run_env

assert SQLModel.metadata is not None
run_env(TABLES)
