"""Which query parameters a route declares, and which of them a query string may repeat."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shared.api.routes import api_routes, declared_query_params, repeatable_query_params


def _paging(limit: int = 50, cursor: str | None = None) -> tuple[int, str | None]:
    return limit, cursor


def _route():
    router = APIRouter()

    @router.get("/things")
    async def list_things(paging: Annotated[tuple[int, str | None], Depends(_paging)],
                          tag: Annotated[list[str] | None, Query()] = None, status: str | None = None) -> None:
        return None

    return api_routes(router.routes)[0]


def test_declared_params_include_those_of_dependencies():
    assert declared_query_params(_route()) == {"limit", "cursor", "tag", "status"}


def test_only_list_params_may_repeat():
    assert repeatable_query_params(_route()) == {"tag"}


def test_the_answer_is_kept_on_the_route():
    route = _route()
    first = declared_query_params(route)
    assert declared_query_params(route) is first
    assert repeatable_query_params(route) is repeatable_query_params(route)
