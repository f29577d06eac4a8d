"""The configuration reference in docs/operations.md is generated from the settings classes."""

from __future__ import annotations

import pytest
from pydantic import Field
from typer.testing import CliRunner

from devstack import config_reference
from devstack.cli import app
from tests.unit.deploy.files import APP_SERVICES, accepted


def test_the_committed_reference_matches_the_settings_classes():
    assert config_reference.is_current()
    result = CliRunner().invoke(app, ["config-reference", "--check"])
    assert result.exit_code == 0, result.output


def test_every_setting_of_every_service_is_in_the_reference():
    table = config_reference.render()
    for service in APP_SERVICES:
        for name in accepted(service):
            assert f"| `{name}` |" in table, name
    row = next(line for line in table.splitlines() if line.startswith("| `CRM_WEBHOOK_SECRETS` |"))
    assert row.split("|")[4].strip() == "dispatch"
    assert "dev-only" not in table, "development secrets are not printed"


def test_the_check_fails_when_a_setting_changes_without_regenerating(monkeypatch):
    classes = config_reference.settings_classes()

    class ProbeSettings(classes["quality"]):
        probe_interval_s: int = Field(default=7, description="A new setting nobody documented yet.")

    monkeypatch.setattr(config_reference, "settings_classes", lambda: {**classes, "quality": ProbeSettings})
    result = CliRunner().invoke(app, ["config-reference", "--check"])
    assert result.exit_code == 1
    assert "out of date" in result.output
    assert "| `PROBE_INTERVAL_S` | int | `7` | quality |" in config_reference.render()


def test_a_setting_without_a_description_is_refused(monkeypatch):
    classes = config_reference.settings_classes()

    class Undocumented(classes["onsite"]):
        mystery_knob: int = 1

    monkeypatch.setattr(config_reference, "settings_classes", lambda: {**classes, "onsite": Undocumented})
    with pytest.raises(ValueError, match="mystery_knob has no description"):
        config_reference.collect()
    result = CliRunner().invoke(app, ["config-reference", "--check"])
    assert result.exit_code == 1
    assert "mystery_knob has no description" in result.output


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_derived_names_are_the_ones_pydantic_settings_reads(service, monkeypatch):
    """Each derived name of a text setting, set in the environment, reaches its field."""
    cls = config_reference.settings_classes()[service]
    checked = set()
    for field_name, info in cls.model_fields.items():
        if info.annotation not in (str, str | None):
            continue
        for env in config_reference.env_names(field_name, info, cls):
            value = f"postgresql+asyncpg://probe@db-{env.lower()}:5432/x"
            monkeypatch.setenv(env, value)
            assert getattr(cls(), field_name) == value, env
            monkeypatch.delenv(env)
            checked.add(env)
    assert {"POSTGRES_URL", f"{service.upper()}_DATABASE_URL", "DATABASE_URL", "JWT_ISSUER"} <= checked


def test_each_service_reads_its_own_database_url_and_no_other():
    for service in APP_SERVICES:
        names = accepted(service)
        assert f"{service.upper()}_DATABASE_URL" in names
        assert not {f"{other.upper()}_DATABASE_URL" for other in APP_SERVICES if other != service} & names
