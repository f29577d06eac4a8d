"""Alembic environment of the dispatch service: its own tables plus the shared outbox tables."""

from sqlmodel import SQLModel

import services.dispatch.cases.models
import services.dispatch.conditions.models
import services.dispatch.engineers.models
import services.dispatch.plans.models
import services.dispatch.preparation.models
import services.dispatch.routing.models
import services.dispatch.specifications.models
import services.dispatch.staffing.models  # noqa: F401
from services.dispatch.tables import TABLES
from shared.migrations import run_env

assert SQLModel.metadata is not None
run_env(TABLES)
