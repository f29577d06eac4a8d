"""Alembic environment of the quality service: its own tables plus the shared outbox tables."""

from services.quality.tables import TABLES
from shared.migrations import run_env

run_env(TABLES)
