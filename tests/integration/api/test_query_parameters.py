"""Query strings: a scalar parameter given more than once is refused (422 naming it); a
list-typed parameter may repeat; an undeclared parameter is refused."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Query

from shared.api.problems import MEDIA_TYPE, install_problem_handlers, reject_unknown_query_parameters
from shared.api.routes import repeatable_query_params
from tests.integration.conftest import bearer, running_app

pytestmark = pytest.mark.integration


async def test_a_scalar_filter_given_twice_is_refused_naming_it(env) -> None:
    async with running_app(env, "feedback", relay_enabled=False, consumer_enabled=False) as (_app, client):
        headers = bearer(env, "call_centre_agent", "agent-1")
        once = await client.get("/follow-up-calls", params={"held_by": "a"}, headers=headers)
        assert once.status_code == 200, once.text
        twice = await client.get("/follow-up-calls?held_by=a&held_by=b", headers=headers)
        six = await client.get("/follow-up-calls?" + "&".join(["held_by=x"] * 6) + "&limit=5&limit=5",
                               headers=headers)
    assert twice.status_code == 422, twice.text
    assert twice.headers["content-type"].startswith(MEDIA_TYPE)
    body = twice.json()
    assert "held_by" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["query.held_by"]
    assert six.status_code == 422, six.text
    assert [e["field"] for e in six.json()["errors"]] == ["query.held_by", "query.limit"]


def _app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(reject_unknown_query_parameters)])
    install_problem_handlers(app)

    @app.get("/things")
    async def things(tag: Annotated[list[str] | None, Query()] = None,
                     ids: Annotated[tuple[int, ...], Query()] = (),
                     status: Annotated[str | None, Query()] = None) -> dict[str, object]:
        return {"tag": tag, "ids": list(ids), "status": status}

    return app


async def test_list_typed_parameters_may_repeat_scalars_may_not() -> None:
    app = _app()
    route = next(r for r in app.routes if getattr(r, "path", None) == "/things")
    assert repeatable_query_params(route) == {"tag", "ids"}  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        listed = await client.get("/things?tag=a&tag=b&ids=1&ids=2&status=open")
        repeated = await client.get("/things?tag=a&tag=b&status=open&status=closed")
        unknown = await client.get("/things?stauts=open")
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"tag": ["a", "b"], "ids": [1, 2], "status": "open"}
    assert repeated.status_code == 422, repeated.text
    assert [e["field"] for e in repeated.json()["errors"]] == ["query.status"]
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["type"] == "extra_forbidden"
