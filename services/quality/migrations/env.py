"""Alembic environment of the quality service: its own tables plus the shared outbox tables."""

from sqlmodel import SQLModel

import services.quality.catalogue.models  # registers the tables (as do the imports below)
import services.quality.evidence.models
import services.quality.issues.models
import services.quality.repairs.models
import services.quality.sla.models  # noqa: F401
from services.quality.tables import TABLES
from shared.migrations import run_env

assert SQLModel.metadata is not None
run_env(TABLES)
