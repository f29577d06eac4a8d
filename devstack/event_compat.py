"""Event schema compatibility: the events the code declares against the last committed AsyncAPI.

Messages stay in topics and dead-letter queues, and producers and consumers are deployed one at a
time, so an event (type, version) once published must stay readable both ways:

- a new consumer reads old messages: no field becomes required that an old message may lack;
- an old consumer reads new messages: no required field disappears or becomes optional;
- both: a field keeps its type, an enum keeps every value, an event version is never removed.

A change that needs any of these is a new version of the event (`@event(..., version=2)`).
The baseline is the newest committed `docs/asyncapi.yaml` that differs from what the code
generates, so the check also judges the last commit that changed the contract, on a clean clone.
"""

from __future__ import annotations

import subprocess
from typing import Any

import yaml

from devstack.stack import ROOT

DOCUMENT_PATH = "docs/asyncapi.yaml"
Schema = dict[str, Any]


def _resolve(schema: Schema, schemas: dict[str, Schema]) -> Schema:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _options(schema: Schema, schemas: dict[str, Schema]) -> list[Schema]:
    """The non-null alternatives of a field (`X | None` is `anyOf: [X, null]`)."""
    schema = _resolve(schema, schemas)
    alternatives = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [_resolve(s, schemas) for s in alternatives if s.get("type") != "null"]


def _values(option: Schema) -> list[Any]:
    """The values an enum (or a constant, an enum of one) allows; none for other fields."""
    return [option["const"]] if "const" in option else list(option.get("enum", []))


def _shape(schema: Schema, schemas: dict[str, Schema]) -> list[str]:
    """What a field's value looks like, ignoring titles, descriptions, defaults and enum values."""
    shapes = []
    for option in _options(schema, schemas):
        if "const" in option or "enum" in option:
            shapes.append(f"enum:{option.get('type', 'any')}")
        elif "properties" in option or option.get("type") == "object":
            shapes.append("object")
        elif option.get("type") == "array":
            shapes.append("array[" + ",".join(_shape(option.get("items", {}), schemas)) + "]")
        else:
            shapes.append(f"{option.get('type', 'any')}:{option.get('format', '')}")
    return sorted(shapes)


def _compare(where: str, old: Schema, new: Schema, old_schemas: dict[str, Schema],
             new_schemas: dict[str, Schema], found: list[str], depth: int = 0) -> None:
    old_options, new_options = _options(old, old_schemas), _options(new, new_schemas)
    if _shape(old, old_schemas) != _shape(new, new_schemas):
        found.append(f"{where}: type changed from {_shape(old, old_schemas)} to {_shape(new, new_schemas)}")
        return
    for old_option, new_option in zip(old_options, new_options, strict=True):
        removed = set(_values(old_option)) - set(_values(new_option))
        if removed:
            found.append(f"{where}: enum values removed {sorted(removed, key=str)}")
        if old_option.get("type") == "array":
            _compare(f"{where}[]", old_option.get("items", {}), new_option.get("items", {}), old_schemas,
                     new_schemas, found, depth + 1)
        if "properties" in old_option and depth < 8:
            _compare_object(where, old_option, new_option, old_schemas, new_schemas, found, depth + 1)


def _compare_object(where: str, old: Schema, new: Schema, old_schemas: dict[str, Schema],
                    new_schemas: dict[str, Schema], found: list[str], depth: int = 0) -> None:
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    for name in sorted(old_required - new_required):
        what = "removed" if name not in new_fields else "no longer required"
        found.append(f"{where}.{name}: a required field {what} (old consumers need it)")
    for name in sorted(new_required - old_required):
        found.append(f"{where}.{name}: newly required (old messages lack it): give it a default")
    for name in sorted(set(old_fields) & set(new_fields)):
        _compare(f"{where}.{name}", old_fields[name], new_fields[name], old_schemas, new_schemas, found, depth)


def _payload(message: Schema) -> Schema:
    """The `data` schema of a message (the envelope's `allOf` second part)."""
    return message["payload"]["allOf"][1]["properties"]["data"]


def incompatibilities(old_document: Schema, new_document: Schema) -> list[str]:
    """Every change of the new catalogue that an old consumer, producer or stored message cannot take."""
    old_schemas = old_document["components"]["schemas"]
    new_schemas = new_document["components"]["schemas"]
    old_messages = old_document["components"]["messages"]
    new_messages = new_document["components"]["messages"]
    found: list[str] = []
    for key in sorted(old_messages):
        if key not in new_messages:
            found.append(f"{key}: the event version was removed (its messages may still be in topics)")
            continue
        old_data = _resolve(_payload(old_messages[key]), old_schemas)
        new_data = _resolve(_payload(new_messages[key]), new_schemas)
        _compare_object(key, old_data, new_data, old_schemas, new_schemas, found)
    return found


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def baseline(generated: str) -> tuple[str, str] | None:
    """(commit, text) of the newest committed AsyncAPI that differs from `generated`, if any."""
    try:
        commits = _git("log", "--format=%H", "--", DOCUMENT_PATH).split()
    except (OSError, subprocess.CalledProcessError):
        return None
    for commit in commits:
        text = _git("show", f"{commit}:{DOCUMENT_PATH}")
        if text != generated:
            return commit, text
    return None


def check(generated: str) -> tuple[str | None, list[str]]:
    """The baseline commit compared against, and the incompatibilities found."""
    found = baseline(generated)
    if found is None:
        return None, []
    commit, text = found
    return commit, incompatibilities(yaml.safe_load(text), yaml.safe_load(generated))
