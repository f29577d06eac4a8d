"""Walking an app's routes, including those of included routers."""

from __future__ import annotations

import collections.abc
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi.routing import APIRoute
from starlette.routing import Match


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI >= 0.165 keeps them as `_IncludedRouter`)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


def allowed_methods(routes: list[Any], path: str) -> list[str]:
    """The methods some route serves at `path` (for the `Allow` header of a 405)."""
    methods: set[str] = set()
    for route in api_routes(routes):
        match, _ = route.matches({"type": "http", "path": path, "method": "OPTIONS", "root_path": ""})
        if match in (Match.FULL, Match.PARTIAL):
            methods |= set(route.methods or ())
    return sorted(methods)


def _query_params(route: APIRoute, cache: str, keep: Callable[[Any], bool]) -> frozenset[str]:
    """Names of the query parameters of a route (and its dependencies) that `keep` accepts, worked out
    once per route (kept on it as `cache`: every request asks)."""
    cached: frozenset[str] | None = getattr(route, cache, None)
    if cached is not None:
        return cached
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        names |= {p.alias for p in dependant.query_params if keep(p)}
        stack.extend(dependant.dependencies)
    found = frozenset(names)
    setattr(route, cache, found)
    return found


def declared_query_params(route: APIRoute) -> frozenset[str]:
    """Names of the query parameters a route (and its dependencies) declares."""
    return _query_params(route, "_declared_query_params", lambda _: True)


_SEQUENCES = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Set)


def _is_sequence(annotation: Any) -> bool:
    """`list[str]`, `tuple[int, ...]`, `set[UUID] | None`, `Annotated[list[str], ...]`: a
    parameter that may be given more than once (`?tag=a&tag=b`)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_is_sequence(arg) for arg in get_args(annotation))
    candidate = origin or annotation
    return isinstance(candidate, type) and issubclass(candidate, _SEQUENCES) and not issubclass(candidate, str)


def repeatable_query_params(route: APIRoute) -> frozenset[str]:
    """Names of the list-typed query parameters of a route (and its dependencies): the only ones
    a query string may repeat."""
    return _query_params(route, "_repeatable_query_params", lambda p: _is_sequence(p.field_info.annotation))
