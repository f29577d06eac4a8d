"""OpenAPI links from the operation that yields a resource to every operation that takes its id."""

from __future__ import annotations

import pytest

from services.dispatch.main import create_app
from services.dispatch.settings import DispatchSettings
from shared.api.links import ResourceLink, add_links


def _doc() -> dict:
    op = {"responses": {"201": {"description": "created"}}}
    takes = lambda *names: {"operationId": "op_" + "_".join(names),  # noqa: E731
                            "parameters": [{"in": "path", "name": n} for n in names], "responses": {}}
    return {"paths": {"/visits/{visit_id}/tasks": {"post": {**op, "operationId": "create_task",
                                                            "parameters": [{"in": "path", "name": "visit_id"}]}},
                      "/visits/{visit_id}/tasks/{task_id}": {"get": takes("visit_id", "task_id")},
                      "/tasks/{task_id}": {"get": takes("task_id")},
                      "/visits/{visit_id}": {"get": takes("visit_id")}}}


def test_every_operation_taking_the_id_is_linked_with_the_producers_own_path_parameters():
    doc = add_links(_doc(), [ResourceLink("POST", "/visits/{visit_id}/tasks", "201", "task_id")])
    links = doc["paths"]["/visits/{visit_id}/tasks"]["post"]["responses"]["201"]["links"]
    assert links == {
        "op_visit_id_task_id": {"operationId": "op_visit_id_task_id", "parameters": {
            "path.task_id": "$response.body#/id", "path.visit_id": "$request.path.visit_id"}},
        "op_task_id": {"operationId": "op_task_id", "parameters": {"path.task_id": "$response.body#/id"}},
    }


def test_a_link_from_an_operation_that_does_not_exist_is_an_error():
    with pytest.raises(ValueError, match="no POST /nowhere"):
        add_links(_doc(), [ResourceLink("POST", "/nowhere", "201", "task_id")])


def test_the_case_created_by_the_crm_feeds_every_case_operation():
    doc = create_app(DispatchSettings(environment="test", log_json=False)).openapi()
    links = doc["paths"]["/crm/service-requests"]["post"]["responses"]["201"]["links"]
    case_operations = {op["operationId"] for path, ops in doc["paths"].items() if "{case_id}" in path
                       for op in ops.values()}
    assert set(links) == case_operations and len(case_operations) >= 10
