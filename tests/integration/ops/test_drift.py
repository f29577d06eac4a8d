"""The models-against-migrations check: silent when they match, naming the difference when not."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, Table
from sqlmodel import SQLModel

import devstack.drift as drift_module
from devstack.drift import service_drift
from shared.migrations import service_tables

pytestmark = pytest.mark.integration


def test_the_tables_of_a_service_are_derived_from_its_models():
    assert {"follow_up_call", "complaint"} <= service_tables("feedback")
    assert "follow_up_call" not in service_tables("dispatch")
    assert "outbox_message" not in service_tables("feedback")  # shared tables are added by the migrations


def test_a_model_without_its_migration_is_named(env, monkeypatch):
    assert service_drift(env.postgres_url, "feedback") == []
    probe = Table("drift_probe", SQLModel.metadata, Column("id", Integer, primary_key=True))
    monkeypatch.setattr(drift_module, "service_tables", lambda service: service_tables(service) | {"drift_probe"})
    try:
        found = service_drift(env.postgres_url, "feedback")
    finally:
        SQLModel.metadata.remove(probe)
    assert len(found) == 1 and "add_table" in found[0] and "drift_probe" in found[0]
