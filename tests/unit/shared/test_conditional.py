"""Conditional GETs (shared/api/conditional.py): ETags, If-None-Match and 304, and their OpenAPI."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from shared.api.conditional import body_etag, conditional, none_match


class Thing(BaseModel):
    name: str
    size: int


def test_the_etag_is_a_strong_tag_of_the_body() -> None:
    tag = body_etag(b'{"a":1}')
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 34
    assert tag == body_etag(b'{"a":1}') != body_etag(b'{"a":2}')


@pytest.mark.parametrize(("held", "matches"), [
    (None, False), ('"abc"', True), ('W/"abc"', True), ('"x", "abc"', True), ('"x","y"', False), ("*", True),
    ('"ab"', False), ("", False),
])
def test_if_none_match_is_compared_weakly_with_lists_and_star(held: str | None, matches: bool) -> None:
    assert none_match(held, '"abc"') is matches
    assert none_match(held, 'W/"abc"') is matches  # a weak current tag (a version) compares the same way


def test_an_unchanged_representation_answers_304_with_its_etag_and_no_body() -> None:
    first = conditional(Thing(name="bay 1", size=2), None)
    assert first.status_code == 200 and json.loads(first.body) == {"name": "bay 1", "size": 2}
    tag = first.headers["etag"]
    again = conditional(Thing(name="bay 1", size=2), tag)
    assert again.status_code == 304 and again.body == b"" and again.headers["etag"] == tag
    assert conditional(Thing(name="bay 1", size=3), tag).status_code == 200
    versioned = conditional(Thing(name="bay 1", size=2), 'W/"7"', etag='W/"7"')
    assert versioned.status_code == 304 and versioned.headers["etag"] == 'W/"7"'
    assert conditional([{"a": 1}], None).headers["etag"] == body_etag(b'[{"a":1}]')


def test_polled_operations_document_if_none_match_and_304() -> None:
    from services.dispatch.main import create_app as dispatch
    from services.dispatch.settings import DispatchSettings
    from services.onsite.main import create_app as onsite
    from services.onsite.settings import OnsiteSettings

    polled = {"onsite": [("/visits/{visit_id}", "get"), ("/engineers/{engineer_id}/agenda", "get"),
                         ("/visits/{visit_id}/changes", "get"), ("/engineers/{engineer_id}/changes", "get")],
              "dispatch": [("/board", "get")]}
    documents = {"onsite": onsite(OnsiteSettings(environment="test", log_json=False)).openapi(),
                 "dispatch": dispatch(DispatchSettings(environment="test", log_json=False)).openapi()}
    for service, operations in polled.items():
        for path, method in operations:
            operation = documents[service]["paths"][path][method]
            headers = {p["name"].lower() for p in operation["parameters"] if p["in"] == "header"}
            assert "if-none-match" in headers, (service, path)
            assert "ETag" in operation["responses"]["304"]["headers"], (service, path)
            assert "content" not in operation["responses"]["304"]
            assert "ETag" in operation["responses"]["200"]["headers"], (service, path)
