"""Alembic environment of the dispatch service: its own tables plus the shared outbox tables."""

from services.dispatch.tables import TABLES
from shared.migrations import run_env

run_env(TABLES)
