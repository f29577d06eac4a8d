"""Alembic environment of the feedback service: its own tables plus the shared outbox tables."""

from sqlmodel import SQLModel

import services.feedback.calls.models
import services.feedback.complaints.models
import services.feedback.information.models
import services.feedback.surveys.models  # noqa: F401
from services.feedback.tables import TABLES
from shared.migrations import run_env

assert SQLModel.metadata is not None
run_env(TABLES)
