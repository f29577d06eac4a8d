"""Alembic environment of the feedback service: its own tables plus the shared outbox tables."""

from services.feedback.tables import TABLES
from shared.migrations import run_env

run_env(TABLES)
