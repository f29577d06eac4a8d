"""Alembic environment of the onsite service: its own tables plus the shared outbox tables."""

from sqlmodel import SQLModel

import services.onsite.visits.models  # noqa: F401  (registers the tables)
from services.onsite.tables import TABLES
from shared.migrations import run_env

assert SQLModel.metadata is not None
run_env(TABLES)
