"""The AsyncAPI document is generated from the event models and checked against them."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from devstack import asyncapi
from devstack.cli import app
from shared.events import registry
from shared.events.registry import EventPayload


def test_every_event_has_a_message_with_a_valid_example():
    doc = asyncapi.build()
    assert doc["asyncapi"].startswith("3.")
    for cls in registry.all():
        message = doc["components"]["messages"][f"{cls.event_type}.v{cls.event_version}"]
        example = message["examples"][0]["payload"]
        assert example["type"] == cls.event_type
        cls.model_validate(example["data"])
        assert f"{cls.event_type}.v{cls.event_version}" in doc["channels"][f"{cls.producer}Events"]["messages"]


def test_the_committed_document_matches_the_code():
    assert yaml.safe_load(asyncapi.DOCUMENT.read_text()) == yaml.safe_load(asyncapi.render())
    assert CliRunner().invoke(app, ["asyncapi", "--check"]).exit_code == 0


def test_the_check_fails_when_an_event_changes_without_regenerating(monkeypatch):
    class ProbeHappened(EventPayload):
        """A new event nobody documented yet."""

        case_id: str

    ProbeHappened.event_type, ProbeHappened.event_version, ProbeHappened.producer = "ProbeHappened", 1, "dispatch"
    monkeypatch.setitem(registry._types, ("ProbeHappened", 1), ProbeHappened)
    result = CliRunner().invoke(app, ["asyncapi", "--check"])
    assert result.exit_code == 1
    assert "out of date" in result.output
