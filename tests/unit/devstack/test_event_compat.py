"""The event compatibility check: what it refuses (each rule) and what it lets through."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from devstack.asyncapi import render
from devstack.event_compat import incompatibilities

CURRENT: dict[str, Any] = yaml.safe_load(render())


def changed(event: str, change) -> dict[str, Any]:
    document = copy.deepcopy(CURRENT)
    change(document["components"]["schemas"][event])
    return document


def test_the_catalogue_is_compatible_with_itself():
    assert incompatibilities(CURRENT, CURRENT) == []


def test_an_optional_field_may_be_added():
    def add(schema):
        schema["properties"]["note"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert incompatibilities(CURRENT, changed("IssueLogged", add)) == []


@pytest.mark.parametrize(("change", "says"), [
    (lambda s: s["required"].append("note") or s["properties"].update(note={"type": "string"}), "newly required"),
    (lambda s: s["required"].remove("failure_mode") or s["properties"].pop("failure_mode"), "required field removed"),
    (lambda s: s["required"].remove("failure_mode"), "no longer required"),
    (lambda s: s["properties"].update(product={"type": "integer"}), "type changed"),
    (lambda s: s["properties"].update(source={"enum": ["onsite"], "type": "string"}), "enum values removed"),
])
def test_a_breaking_change_is_refused_naming_the_event_and_field(change, says):
    found = incompatibilities(CURRENT, changed("IssueLogged", change))
    assert len(found) == 1 and found[0].startswith("IssueLogged.v1.") and says in found[0]


def test_a_removed_event_version_is_refused():
    document = copy.deepcopy(CURRENT)
    del document["components"]["messages"]["IssueLogged.v1"]
    assert incompatibilities(CURRENT, document) == [
        "IssueLogged.v1: the event version was removed (its messages may still be in topics)"]


def test_an_enum_may_gain_a_value():
    def widen(schema):
        option = schema["properties"]["source"]
        option["enum"] = [*option["enum"], "audit"]
    assert incompatibilities(CURRENT, changed("IssueLogged", widen)) == []
