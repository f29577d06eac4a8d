"""The OpenAPI document as a contract a client generator can trust (decision 0080).

FastAPI's document is correct for humans and loose for generators. `install_openapi` builds it
once and refines it in one place, so routers need no annotations beyond their binary media
types:

- operation ids are the endpoint function's name in camelCase (`listCases`, `claimFollowUpCall`);
  a duplicate fails when the app is created;
- each operation has one tag (the most specific one), the module a generated client puts it in;
- problems are documented under `application/problem+json` with the `ProblemDetail` schema;
- public operations declare `security: []` and list no 401/403; the operational endpoints
  (health, readiness, metrics) list only the answers they can give;
- the headers an endpoint sets (`ETag`, `Location`, `Idempotent-Replayed`, `Retry-After`) are
  documented on its success responses, found in the endpoint's code and the helpers it calls;
- generic models and forms get plain names (`CaseReadPage`, not `Page_CaseRead_`; `UploadEvidenceForm`,
  not `Body_uploadEvidence`);
- in response schemas every property is `required` (a response model serialises every field;
  absent means null, never missing); a schema also used in requests is split into `<Name>Input`;
- every enumeration a client shows carries `x-enum-labels`: each value's label in English and
  Chinese (decision 0094), for a generated client or a UI to show instead of the value.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
import textwrap
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from shared.api.links import ResourceLink, add_links
from shared.api.problems import MEDIA_TYPE
from shared.api.routes import api_routes
from shared.i18n import enum_labels, enum_names, has_labels

PROBLEM_REF = "#/components/schemas/ProblemDetail"
SCHEMA_PREFIX = "#/components/schemas/"
OPERATIONAL_TAG = "operations"

# The response headers the services send, as documented on the responses that carry them.
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "The version of the representation returned: send it back as `If-None-Match` to "
                            "poll (304 while unchanged) or, when it is a weak version tag, as `If-Match` to "
                            "change the resource (a stale one gives 412)",
             "schema": {"type": "string", "examples": ['W/"3"']}},
    "Location": {"description": "The path of the resource created",
                 "schema": {"type": "string", "format": "uri-reference"}},
    "Idempotent-Replayed": {"description": "`true` when this is the stored response of an earlier request with "
                                           "the same `Idempotency-Key` (nothing was changed again)",
                            "schema": {"type": "string", "enum": ["true"]}},
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}},
    # tus 1.0 resumable uploads (decision 0092)
    "Tus-Resumable": {"description": "The tus protocol version of the answer", "schema": {"type": "string",
                                                                                          "enum": ["1.0.0"]}},
    "Tus-Version": {"description": "The tus protocol versions the server speaks", "schema": {"type": "string"}},
    "Tus-Extension": {"description": "The tus extensions the server supports (comma-separated)",
                      "schema": {"type": "string", "examples": ["creation,checksum,expiration,termination"]}},
    "Tus-Max-Size": {"description": "The largest upload accepted, in bytes", "schema": {"type": "integer"}},
    "Tus-Checksum-Algorithm": {"description": "The algorithms accepted in `Upload-Checksum`",
                               "schema": {"type": "string", "examples": ["sha256"]}},
    "Upload-Offset": {"description": "The bytes of the upload the server holds: send the next chunk from here",
                      "schema": {"type": "integer", "minimum": 0}},
    "Upload-Length": {"description": "The upload's declared total size in bytes", "schema": {"type": "integer"}},
    "Upload-Expires": {"description": "When the upload expires unless more of it arrives (an HTTP date)",
                       "schema": {"type": "string"}},
    "Cache-Control": {"description": "How the answer may be cached (`no-store`: it changes as chunks arrive)",
                      "schema": {"type": "string"}},
    "Evidence-Id": {"description": "The evidence recorded when the upload's last byte arrived (its SHA-256 checked)",
                    "schema": {"type": "string", "format": "uuid"}},
}
_HEADER_NAMES = {name.lower(): name for name in RESPONSE_HEADERS}


def operation_id(route: APIRoute) -> str:
    """The operation id of a route: its endpoint function's name in camelCase (`list_cases` -> `listCases`)."""
    head, *rest = route.name.strip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest if part)


def binary_response(*media_types: str, description: str = "The file") -> dict[str, Any]:
    """OpenAPI for a success response whose body is a file of one of `media_types`."""
    return {"description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types}}


def check_operation_ids(app: FastAPI) -> None:
    """Fail fast: two operations of one app must not share an operation id."""
    seen: dict[str, str] = {}
    for route in api_routes(app.routes):
        if not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            op_id = route.operation_id or operation_id(route)
            where = f"{method} {route.path}"
            if op_id in seen and seen[op_id] != where:
                raise ValueError(f"operation id {op_id!r} of {where} is already used by {seen[op_id]}; "
                                 "rename one of the endpoint functions")
            seen[op_id] = where
            break  # one id per route (FastAPI's rule for a route serving several methods)


def install_openapi(app: FastAPI, links: list[ResourceLink]) -> None:
    """Make `app.openapi()` return the refined document (built once), with the OpenAPI links."""
    check_operation_ids(app)
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = refine(build(), api_routes(app.routes))
            app.openapi_schema = add_links(document, links) if links else document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document


def refine(document: dict[str, Any], routes: list[APIRoute]) -> dict[str, Any]:
    """Apply the rules of the module docstring to a document FastAPI built (in place)."""
    by_operation = {(method.lower(), route.path_format): route for route in routes for method in route.methods or ()}
    ids: dict[str, str] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            op_id = operation.get("operationId", "")
            if op_id in ids:
                raise ValueError(f"operation id {op_id!r} of {method.upper()} {path} is also {ids[op_id]}")
            ids[op_id] = f"{method.upper()} {path}"
            route = by_operation.get((method, path))
            _one_tag(operation)
            _idempotency_key(operation, method)
            _problems(operation)
            _impossible_answers(operation, route)
            if route is not None:
                _headers(operation, route)
    _generic_names(document)
    _required_in_responses(document)
    _enum_labels(document)
    return document


def _generic_names(document: dict[str, Any]) -> None:
    """Pydantic names `Page[CaseRead]` `Page_CaseRead_`: call it `CaseReadPage`; FastAPI names the form of
    `uploadEvidence` `Body_uploadEvidence`: call it `UploadEvidenceForm`."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    renames: dict[str, str] = {}
    for name in list(schemas):
        generic = re.fullmatch(r"([A-Za-z0-9]+)_([A-Za-z0-9]+)_", name)
        form = re.fullmatch(r"Body_([A-Za-z0-9]+)", name)  # FastAPI's name of a form body: `Body_<operationId>`
        new = f"{generic[2]}{generic[1]}" if generic else f"{form[1][:1].upper()}{form[1][1:]}Form" if form else None
        if new is not None and new not in schemas:
            renames[name] = new
            schemas[new] = {**schemas.pop(name), "title": new}
    if renames:
        _rename_refs(document, renames)


def _one_tag(operation: dict[str, Any]) -> None:
    """A router's tag and a route's own tag: the route's is the more specific one."""
    tags = operation.get("tags") or []
    if len(tags) > 1:
        operation["tags"] = [tags[-1]]


def _idempotency_key(operation: dict[str, Any], method: str) -> None:
    """Every write takes an `Idempotency-Key` (decision 0095): the header, the replay marker on its
    answers and the 409 of a key whose request was applied without a stored response."""
    if method not in {"post", "put", "patch", "delete"} or OPERATIONAL_TAG in (operation.get("tags") or []):
        return
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key" for p in parameters):
        parameters.append({
            "name": "Idempotency-Key", "in": "header", "required": False,
            "description": "A unique key per intended operation (e.g. a UUID): a retry with the same key and body "
                           "returns the first response (`Idempotent-Replayed: true`) and changes nothing; the same "
                           "key with another request is refused (422). Kept `IDEMPOTENCY_KEY_TTL_HOURS`.",
            "schema": {"type": "string", "minLength": 8, "maxLength": 128}})
    replayed = RESPONSE_HEADERS["Idempotent-Replayed"]
    for code, response in operation["responses"].items():
        if code.startswith("2"):
            response.setdefault("headers", {}).setdefault("Idempotent-Replayed", replayed)
    operation["responses"].setdefault("409", {
        "description": "Conflict with the current state (or a refused gate, naming missing conditions; or a request "
                       "with this Idempotency-Key applied whose response was not stored)",
        "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}})


def _problems(operation: dict[str, Any]) -> None:
    """Error responses: `application/problem+json` with the ProblemDetail schema (keeping an example)."""
    for code, response in operation["responses"].items():
        content = response.get("content") or {}
        if code.startswith(("4", "5")) and (MEDIA_TYPE in content or PROBLEM_REF in str(content)):
            example = (response["content"].get(MEDIA_TYPE) or {}).get("example")
            media: dict[str, Any] = {"schema": {"$ref": PROBLEM_REF}}
            if example is not None:
                media["example"] = example
            response["content"] = {MEDIA_TYPE: media}


def _impossible_answers(operation: dict[str, Any], route: APIRoute | None) -> None:
    """Public operations answer no 401/403; operational ones only what their route declares."""
    responses = operation["responses"]
    if OPERATIONAL_TAG in (operation.get("tags") or []):
        declared = {str(code) for code in (route.responses if route is not None else {})}
        for code in list(responses):
            if not code.startswith("2") and code not in declared:
                del responses[code]
        operation["security"] = []
    elif "security" not in operation and "x-required-roles" not in operation:
        operation["security"] = []
        for code in ("401", "403"):
            responses.pop(code, None)


def _headers(operation: dict[str, Any], route: APIRoute) -> None:
    names = headers_set_by(route.endpoint)
    if not names:
        return
    for code, response in operation["responses"].items():
        if code.startswith("2"):
            headers = response.setdefault("headers", {})
            for name in sorted(names):
                headers.setdefault(name, RESPONSE_HEADERS[name])


def headers_set_by(function: Callable[..., Any], depth: int = 3) -> set[str]:
    """The documented response headers `function` sets (`x.headers["ETag"] = …`, `Response(headers={…})`),
    also in the functions of its own package or `shared` it calls, `depth` calls deep."""
    found: set[str] = set()
    function = inspect.unwrap(function)
    home = (f"{function.__module__.split('.')[0]}.", "shared.")
    _scan(function, depth, found, set(), home)
    return found


def _scan(function: Any, depth: int, found: set[str], seen: set[int], home: tuple[str, ...]) -> None:
    function = inspect.unwrap(function)
    if id(function) in seen or not inspect.isfunction(function) or not function.__module__.startswith(home):
        return
    seen.add(id(function))
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return
    namespace = function.__globals__
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "headers":
            _note(node.slice, found)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "headers" and isinstance(keyword.value, ast.Dict):
                    for key in keyword.value.keys:
                        _note(key, found)
            if depth > 0:
                callee = _resolve(node.func, namespace)
                if callee is not None and _passes_response(node, callee):
                    _scan(callee, depth - 1, found, seen, home)


def _passes_response(call: ast.Call, callee: Any) -> bool:
    """False when the callee sets headers on a `response` argument this call does not give it."""
    try:
        parameters = list(inspect.signature(callee).parameters)
    except (TypeError, ValueError):
        return True
    if "response" not in parameters:
        return True
    return any(k.arg == "response" for k in call.keywords) or len(call.args) > parameters.index("response")


def _note(node: ast.AST | None, found: set[str]) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in _HEADER_NAMES:
        found.add(_HEADER_NAMES[node.value.lower()])


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner = namespace.get(node.value.id)
        if inspect.ismodule(owner):
            return getattr(owner, node.attr, None)
    return None


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
            out.add(ref.removeprefix(SCHEMA_PREFIX))
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def _closure(schemas: dict[str, Any], names: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs(schemas[name], found)
        todo.extend(found)
    return seen


def _rename_refs(node: Any, renames: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.removeprefix(SCHEMA_PREFIX) in renames:
            node["$ref"] = SCHEMA_PREFIX + renames[ref.removeprefix(SCHEMA_PREFIX)]
        for value in node.values():
            _rename_refs(value, renames)
    elif isinstance(node, list):
        for value in node:
            _rename_refs(value, renames)


def _required_in_responses(document: dict[str, Any]) -> None:
    """Every property of a schema a success response uses is required (FastAPI serialises them all)."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    request_roots: set[str] = set()
    response_roots: set[str] = set()
    operations = [op for ops in document.get("paths", {}).values() for op in ops.values() if isinstance(op, dict)]
    for operation in operations:
        _refs(operation.get("requestBody", {}), request_roots)
        _refs(operation.get("parameters", []), request_roots)
        for code, response in operation.get("responses", {}).items():
            if code.startswith("2"):
                _refs(response.get("content", {}), response_roots)
    requests, responses = _closure(schemas, request_roots), _closure(schemas, response_roots)
    # A schema used both ways keeps its name for responses; requests get a copy without required defaults.
    shared = {name for name in requests & responses if "properties" in schemas[name]}
    renames = {name: f"{name}Input" for name in shared if f"{name}Input" not in schemas}
    for name, input_name in renames.items():
        schemas[input_name] = {**copy.deepcopy(schemas[name]), "title": input_name}
    for name in requests:
        target = renames.get(name, name)
        _rename_refs(schemas[target], renames)
    for operation in operations:
        _rename_refs(operation.get("requestBody", {}), renames)
        _rename_refs(operation.get("parameters", []), renames)
    for name in responses:
        schema = schemas[name]
        if "properties" in schema:
            schema["required"] = list(schema["properties"])


def _enum_labels(document: dict[str, Any]) -> None:
    """An enumeration's schema (named after its StrEnum) gets its labels from the message catalogue:
    `x-enum-labels: {"en": {value: label}, "zh": {value: label}}` (additive: values are unchanged);
    so does an inline choice (a `Literal[...]` property or parameter) whose values all have labels."""
    known = enum_names()
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        if name in known and isinstance(schema.get("enum"), list):
            schema["x-enum-labels"] = enum_labels(name, [str(v) for v in schema["enum"]])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            values = node.get("enum")
            if (isinstance(values, list) and "x-enum-labels" not in node and all(isinstance(v, str) for v in values)
                    and has_labels(values)):
                node["x-enum-labels"] = enum_labels(None, values)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(document)
