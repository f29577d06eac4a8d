"""Alembic environment of the onsite service: its own tables plus the shared outbox tables."""

from sqlmodel import SQLModel

import services.onsite.closing.models  # registers the tables
import services.onsite.evidence.models
import services.onsite.presence.models
import services.onsite.site_records.models
import services.onsite.visits.models
import services.onsite.work.models  # noqa: F401
from services.onsite.tables import TABLES
from shared.migrations import run_env

assert SQLModel.metadata is not None
run_env(TABLES)
