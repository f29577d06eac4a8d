"""RFC 9457 problem details for every failure, with stable `type` URIs.

Domain code raises `Problem` subclasses (or `GateRefused` naming the missing conditions);
the handlers below turn them, and FastAPI's own errors, into `application/problem+json`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.api.routes import allowed_methods
from shared.errors import is_busy, is_invalid_data, is_unavailable
from shared.i18n import ENGLISH, negotiate, translate, validation_message
from shared.messages import msg
from shared.problems import PROBLEM_BASE as PROBLEM_BASE
from shared.problems import (
    Conflict as Conflict,
)
from shared.problems import (
    Forbidden as Forbidden,
)
from shared.problems import (
    GateRefused as GateRefused,
)
from shared.problems import (
    InvalidInput as InvalidInput,
)
from shared.problems import (
    NotFound as NotFound,
)
from shared.problems import (
    PayloadTooLarge as PayloadTooLarge,
)
from shared.problems import (
    PreconditionFailed as PreconditionFailed,
)
from shared.problems import (
    PreconditionRequired as PreconditionRequired,
)
from shared.problems import (  # the domain's errors, re-exported for the web layer
    Problem as Problem,
)
from shared.problems import (
    ServiceUnavailable as ServiceUnavailable,
)
from shared.problems import (
    Unauthorized as Unauthorized,
)
from shared.problems import (
    UnsupportedMediaType as UnsupportedMediaType,
)

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One offending field of invalid input."""

    field: str = Field(description="Where: `body.x`, `query.limit`, a header name")
    message: str
    type: str | None = Field(default=None, description="The kind of error (e.g. `missing`, `extra_forbidden`)")


class ProblemDetail(BaseModel):
    """The body of every error response (RFC 9457), with the extension members a client acts on.

    Each extension member is present only on the problems that carry it (see its description).
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[PROBLEM_BASE + "gate-refused"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Offending fields (422)")
    field: str | None = Field(default=None, description="The one field or header at fault (422, 428)")
    allowed: list[str] | None = Field(default=None, description="The values the field accepts (422)")
    gate: str | None = Field(default=None, description="The step of the standard that refused (409 gate-refused)")
    missing_conditions: list[str] | None = Field(
        default=None, description="What a refused gate still needs, each naming its step (409 gate-refused)")
    current_status: str | None = Field(default=None, description="The state that forbids the change (409)")
    status_of_call: str | None = Field(default=None, description="A follow-up call's state that forbids it (409)")
    held_by: str | None = Field(default=None, description="The agent holding a follow-up call's lease (409)")
    lease_expires_at: datetime | None = Field(default=None, description="When that agent's lease ends (409)")
    due_at: datetime | None = Field(default=None, description="When a follow-up call becomes due (409)")
    current_etag: str | None = Field(
        default=None, description="The resource's ETag now; reload, reapply and send it as If-Match (412)")
    upload_offset: int | None = Field(
        default=None, description="The bytes of a resumable upload the server holds: resume from this offset "
                                  "(409 on a chunk at another offset)")


def request_language(request: Request) -> str:
    """The language of a request's answer: `Accept-Language` (zh or en), else `DEFAULT_LANGUAGE`."""
    settings = getattr(request.app.state, "settings", None)
    return negotiate(request.headers.get("accept-language"), getattr(settings, "default_language", ENGLISH))


def localise(body: dict[str, Any], language: str) -> dict[str, Any]:
    """A problem body with what a person reads (title, detail, missing conditions, field messages)
    in a language; machine members (type, gate, field names, error types) stay as they are."""
    out = dict(body)
    for key in ("title", "detail"):
        if isinstance(out.get(key), str):
            out[key] = translate(out[key], language)
    if isinstance(out.get("missing_conditions"), list):
        out["missing_conditions"] = [translate(c, language) if isinstance(c, str) else c
                                     for c in out["missing_conditions"]]
    if isinstance(out.get("errors"), list):
        out["errors"] = [{**e, "message": translate(e["message"], language)}
                         if isinstance(e, dict) and isinstance(e.get("message"), str) else e
                         for e in out["errors"]]
    return out


def _respond(request: Request, status: int, body: dict[str, Any],
             headers: dict[str, str] | None = None) -> JSONResponse:
    language = request_language(request)
    headers = {**(headers or {}), "Content-Language": language, "Vary": "Accept-Language"}
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(localise(body, language), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _problem(request: Request, status: int, slug: str, title: str, detail: str,
             headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **extra}
    return _respond(request, status, body, headers)


_HTTP_SLUGS = {
    400: ("bad-request", msg("Bad request")),
    401: ("unauthorized", msg("Unauthorized")),
    403: ("forbidden", msg("Forbidden")),
    404: ("not-found", msg("Not found")),
    405: ("method-not-allowed", msg("Method not allowed")),
    406: ("not-acceptable", msg("Not acceptable")),
    409: ("conflict", msg("Conflict")),
    413: ("payload-too-large", msg("Payload too large")),
    415: ("unsupported-media-type", msg("Unsupported media type")),
    429: ("too-many-requests", msg("Too many requests")),
}
# The framework's own details (Starlette's HTTP phrases), translatable like ours.
_FRAMEWORK_DETAILS = {d: msg(d) for d in ("Not Found", "Method Not Allowed", "Not Acceptable", "Unauthorized",
                                          "Forbidden", "Unsupported Media Type", "Too Many Requests")}


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of the app a problem-details response."""

    @app.exception_handler(Problem)
    async def _domain(request: Request, exc: Problem) -> JSONResponse:
        return _respond(request, exc.status, exc.body(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        language = request_language(request)
        # Pydantic's messages are English: translated by the error's type (the catalogue's table).
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())),
             "message": validation_message(e.get("type"), e.get("msg", ""), e.get("ctx"), language),
             "type": e.get("type")}
            for e in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return _problem(request, 422, "validation-error", msg("Invalid input"),
                        msg("invalid fields: {fields}", fields=fields), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # The framework's 400s are bodies it could not parse (malformed JSON or multipart):
            # invalid input, answered like every other invalid input.
            return _problem(request, 422, "validation-error", msg("Invalid input"),
                            msg("the request body could not be parsed: {reason}", reason=str(exc.detail)),
                            errors=[{"field": "body", "message": str(exc.detail), "type": "body_parsing"}])
        slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", msg("HTTP error")))
        detail = _FRAMEWORK_DETAILS.get(exc.detail, exc.detail) if isinstance(exc.detail, str) else title
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # RFC 9110: list every method the resource supports, not only those of one route.
            headers["Allow"] = ", ".join(allowed_methods(request.app.routes, request.url.path))
        return _problem(request, exc.status_code, slug, title, detail, headers=headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(ConnectionError)
    @app.exception_handler(OSError)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable on %s: %r", request.url.path, exc)
        return _problem(request, 503, "service-unavailable", msg("Service unavailable"),
                        msg("the database is unavailable; retry later"))

    def _busy(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database busy on %s: %r", request.url.path, exc)
        return _problem(request, 503, "service-unavailable", msg("Service unavailable"),
                        msg("the database is busy (a lock wait, a time limit or a deadlock); nothing was applied; "
                            "retry"), headers={"Retry-After": "1"})

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests raced past a check-then-insert: the database kept the invariant; say so.
        state = str(getattr(exc.orig, "sqlstate", "") or getattr(exc.orig, "pgcode", "") or "")
        if state in ("23505", "23P01"):
            return _problem(request, 409, "conflict", msg("Conflict"),
                            msg("a concurrent request already created or changed this; reload and retry"))
        if state == "23503":
            return _problem(request, 409, "conflict", msg("Conflict"),
                            msg("the request refers to something that does not exist"))
        if state == "23514":
            return _problem(request, 422, "validation-error", msg("Invalid input"),
                            msg("a value is outside its allowed range"))
        log.exception("integrity error on %s", request.url.path)
        return _problem(request, 500, "internal-error", msg("Internal error"),
                        msg("an unexpected database error occurred"))

    def _last_resort(invalid: str, logged: str, detail: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        """What no handler above took: a value that cannot be stored (422, saying `invalid`), a busy or an
        unavailable database (503), else a 500 saying `detail` (the error logged as `logged`)."""

        async def handle(request: Request, exc: Exception) -> JSONResponse:
            if is_invalid_data(exc):
                return _problem(request, 422, "validation-error", msg("Invalid input"), invalid)
            if is_busy(exc):
                return _busy(request, exc)
            if is_unavailable(exc):
                return await _unavailable(request, exc)
            log.exception(logged, request.url.path)
            return _problem(request, 500, "internal-error", msg("Internal error"), detail)

        return handle

    app.add_exception_handler(DBAPIError, _last_resort(
        msg("a value cannot be stored as given (out of range or an invalid character such as NUL)"),
        "database error on %s", msg("an unexpected database error occurred")))
    app.add_exception_handler(Exception, _last_resort(
        msg("the request holds text that cannot be stored (e.g. an unpaired surrogate)"),
        "unhandled error on %s", msg("an unexpected error occurred")))


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetail, "content": {MEDIA_TYPE: {}}, "description": desc}
    for code, desc in {
        401: "Missing or invalid bearer token",
        403: "The token's roles do not allow this operation or this object",
        404: "Not found",
        409: "Conflict with the current state (or a refused gate, naming missing conditions)",
        412: "The resource changed since it was read (If-Match does not match)",
        422: "Invalid input, naming the offending fields",
        503: "A dependency (database) is unavailable",
    }.items()
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """An operation's `responses=`: the problems it can answer with, documented as PROBLEM_RESPONSES says."""
    return {code: PROBLEM_RESPONSES[code] for code in codes}


def document_not_found(routes: list[Any]) -> None:
    """Every operation addressing a resource by id can answer 404: say so in OpenAPI."""
    from shared.api.routes import api_routes

    for route in api_routes(routes):
        if "{" in route.path_format and 404 not in route.responses and "404" not in route.responses:
            route.responses = {**route.responses, 404: PROBLEM_RESPONSES[404]}


async def reject_unknown_query_parameters(request: Request) -> None:
    """Like request bodies, query strings refuse parameters the operation does not declare:
    a misspelt filter must not silently return everything. A scalar parameter given more than
    once (`?held_by=a&held_by=b`) is refused too: the framework would silently keep the last
    value; only list-typed parameters may repeat."""
    from shared.api.routes import declared_query_params, repeatable_query_params

    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    unknown = sorted(set(request.query_params) - declared_query_params(route))
    if unknown:
        raise InvalidInput(msg("unknown query parameters: {names}", names=", ".join(unknown)),
                           errors=[{"field": f"query.{name}", "message": msg("not a parameter of this operation"),
                                    "type": "extra_forbidden"} for name in unknown])
    given = Counter(name for name, _value in request.query_params.multi_items())
    repeated = sorted(name for name, times in given.items()
                      if times > 1 and name not in repeatable_query_params(route))
    if repeated:
        raise InvalidInput(msg("query parameters given more than once: {names}", names=", ".join(repeated)),
                           errors=[{"field": f"query.{name}", "message": msg("given {times} times; takes one value",
                                                                             times=given[name]),
                                    "type": "repeated_scalar"} for name in repeated])


async def bind_case_to_logs(request: Request) -> None:
    """Log lines of a request about one case carry its id."""
    from shared import context

    case = request.path_params.get("case_id")
    if case is not None:
        context.case_id.set(str(case))
