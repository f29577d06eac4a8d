"""Walking an app's routes, including those of included routers."""

from __future__ import annotations

from typing import Any

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


def declared_query_params(route: APIRoute) -> frozenset[str]:
    """Names of the query parameters a route (and its dependencies) declares."""
    cached = getattr(route, "_declared_query_params", None)
    if cached is not None:
        return cached
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        names |= {p.alias for p in dependant.query_params}
        stack.extend(dependant.dependencies)
    route._declared_query_params = frozenset(names)  # type: ignore[attr-defined]
    return route._declared_query_params  # type: ignore[attr-defined]
