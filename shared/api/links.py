"""OpenAPI links: from an operation that yields a resource to every operation taking its id.

A link tells a client (and Schemathesis' stateful tests) where the id for the next call comes
from, e.g. the case created by the CRM webhook feeds `GET /cases/{case_id}` and every other
`{case_id}` operation. Declared per service as `ResourceLink`s; written into the document
once, when FastAPI first builds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI


@dataclass(frozen=True)
class ResourceLink:
    """`method path` answering `status` yields the value of path parameter `parameter` at `expression`.

    A target that also takes one of the producer's own path parameters (the visit of a task)
    gets it from the producer's request.
    """

    method: str
    path: str
    status: str
    parameter: str
    expression: str = "$response.body#/id"


def _takes(operation: dict[str, Any], parameter: str) -> bool:
    return any(p.get("in") == "path" and p.get("name") == parameter for p in operation.get("parameters", []))


def add_links(document: dict[str, Any], links: list[ResourceLink]) -> dict[str, Any]:
    """Write the links into an OpenAPI document (in place); a link to a missing operation is an error."""
    paths = document.get("paths", {})
    for link in links:
        try:
            response = paths[link.path][link.method.lower()]["responses"][link.status]
        except KeyError:
            raise ValueError(f"no {link.method} {link.path} answering {link.status} to link from") from None
        targets = response.setdefault("links", {})
        inherited = re.findall(r"{(\w+)}", link.path)
        for operations in paths.values():
            for operation in operations.values():
                if isinstance(operation, dict) and _takes(operation, link.parameter):
                    parameters = {f"path.{link.parameter}": link.expression}
                    parameters |= {f"path.{p}": f"$request.path.{p}" for p in inherited if _takes(operation, p)}
                    op_id = operation["operationId"]
                    targets[op_id] = {"operationId": op_id, "parameters": parameters}
    return document


def install_links(app: FastAPI, links: list[ResourceLink]) -> None:
    """Make `app.openapi()` return the document with the links."""
    if not links:
        return
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_links(build(), links)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
