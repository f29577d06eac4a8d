"""Alembic environment of the onsite service: its own tables plus the shared outbox tables."""

from services.onsite.tables import TABLES
from shared.migrations import run_env

run_env(TABLES)
