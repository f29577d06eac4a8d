"""The four OpenAPI documents follow the rules of shared/api/openapi.py (decision 0080)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Response

from shared.api.openapi import headers_set_by, install_openapi, operation_id
from shared.api.problems import MEDIA_TYPE
from shared.api.routes import api_routes

SERVICES = ("dispatch", "onsite", "quality", "feedback")


def _document(service: str) -> dict[str, Any]:
    from services.dispatch.main import create_app as dispatch
    from services.dispatch.settings import DispatchSettings
    from services.feedback.main import create_app as feedback
    from services.feedback.settings import FeedbackSettings
    from services.onsite.main import create_app as onsite
    from services.onsite.settings import OnsiteSettings
    from services.quality.main import create_app as quality
    from services.quality.settings import QualitySettings

    factory, settings = {"dispatch": (dispatch, DispatchSettings), "onsite": (onsite, OnsiteSettings),
                         "quality": (quality, QualitySettings), "feedback": (feedback, FeedbackSettings)}[service]
    return factory(settings(environment="test", log_json=False)).openapi()


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {service: _document(service) for service in SERVICES}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_operation_ids_are_the_endpoint_names_in_camel_case(documents: dict[str, dict[str, Any]]) -> None:
    for document in documents.values():
        ids = [op["operationId"] for _m, _p, op in _operations(document)]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*", i) for i in ids), ids
    assert "listCases" in {op["operationId"] for _m, _p, op in _operations(documents["dispatch"])}
    feedback = {op["operationId"] for _m, _p, op in _operations(documents["feedback"])}
    assert {"claimFollowUpCall", "listCalls"} <= feedback


def test_a_duplicate_operation_id_fails_when_the_app_is_made() -> None:
    app = FastAPI(generate_unique_id_function=operation_id)
    first, second = APIRouter(), APIRouter()

    async def list_things() -> list[str]:
        return []

    first.get("/a")(list_things)
    second.get("/b")(list_things)
    app.include_router(first)
    app.include_router(second)
    with pytest.raises(ValueError, match="operation id 'listThings' of GET /b"):
        install_openapi(app, [])


def test_each_operation_has_one_tag_and_no_schema_has_a_framework_name(documents: dict[str, dict[str, Any]]) -> None:
    for document in documents.values():
        assert all(len(op["tags"]) == 1 for _m, _p, op in _operations(document))
        names = list(document["components"]["schemas"])
        assert not [n for n in names if re.search(r"_(get|post|put|delete)$|Get$|Post$|^Body_|_$", n)], names
    assert {"SiteVisitReadPage", "UploadEvidenceForm"} <= set(documents["onsite"]["components"]["schemas"])


def test_problems_are_problem_json_with_the_typed_extension_members(documents: dict[str, dict[str, Any]]) -> None:
    for document in documents.values():
        for _method, path, operation in _operations(document):
            for code, response in operation["responses"].items():
                if code[0] in "45" and "content" in response and path != "/readyz" \
                        and response.get("x-answered-by") != "http-server":  # 503 at /readyz: the checks
                    assert list(response["content"]) == [MEDIA_TYPE]
                    assert response["content"][MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/ProblemDetail"}
        members = set(document["components"]["schemas"]["ProblemDetail"]["properties"])
        assert {"missing_conditions", "gate", "held_by", "lease_expires_at", "due_at", "current_etag", "field",
                "errors"} <= members


def test_public_and_operational_operations_list_only_possible_answers(documents: dict[str, dict[str, Any]]) -> None:
    for document in documents.values():
        for path in ("/healthz", "/readyz", "/metrics"):
            operation = document["paths"][path]["get"]
            assert operation["security"] == []
            assert not {"401", "403", "422"} & set(operation["responses"]), path
        assert "text/plain" in document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    link = documents["feedback"]["paths"]["/survey-links/{token}"]["get"]
    assert link["security"] == [] and not {"401", "403"} & set(link["responses"])
    claim = documents["feedback"]["paths"]["/follow-up-calls/{call_id}/claim"]["post"]
    assert claim["security"] != [] and "401" in claim["responses"]


def test_files_declare_their_media_type_and_a_binary_schema(documents: dict[str, dict[str, Any]]) -> None:
    report = documents["onsite"]["paths"]["/visits/{visit_id}/report.pdf"]["get"]["responses"]["200"]["content"]
    assert report == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    for service, path in (("onsite", "/visits/{visit_id}/evidence/{evidence_id}/content"),
                          ("quality", "/issues/{issue_id}/evidence/{evidence_id}")):
        content = documents[service]["paths"][path]["get"]["responses"]["200"]["content"]
        assert {"image/jpeg", "image/png", "application/pdf"} <= set(content)
        assert all(media["schema"]["format"] == "binary" for media in content.values())


def test_the_headers_sent_are_documented(documents: dict[str, dict[str, Any]]) -> None:
    def headers(service: str, method: str, path: str, code: str) -> set[str]:
        return set(documents[service]["paths"][path][method]["responses"][code].get("headers", {}))

    assert headers("dispatch", "get", "/cases/{case_id}", "200") == {"ETag"}
    assert "Location" in headers("dispatch", "post", "/crm/service-requests", "201")
    assert headers("feedback", "post", "/follow-up-calls/{call_id}/outcome", "201") == {"Idempotent-Replayed"}
    # every write may be a replay (decision 0095)
    assert headers("quality", "post", "/issues", "201") == {"ETag", "Location", "Idempotent-Replayed"}
    assert headers("quality", "get", "/issues", "200") == set()  # `read(issue)` without a response sets none


def test_header_scan_follows_helpers_given_the_response() -> None:
    def tag(response: Response | None = None) -> None:
        if response is not None:
            response.headers["ETag"] = 'W/"1"'

    def with_response(response: Response) -> None:
        tag(response)

    def without() -> None:
        tag()

    globals()["tag"] = tag  # the scan resolves callees in the function's module
    try:
        assert headers_set_by(with_response) == {"ETag"}
        assert headers_set_by(without) == set()
    finally:
        del globals()["tag"]


def test_response_fields_are_required_and_request_schemas_keep_their_defaults(
    documents: dict[str, dict[str, Any]],
) -> None:
    read = documents["dispatch"]["components"]["schemas"]["ServiceCaseRead"]
    assert set(read["required"]) == set(read["properties"])
    page = documents["onsite"]["components"]["schemas"]["SiteVisitReadPage"]
    assert set(page["required"]) == {"items", "next_cursor"}
    problem = documents["dispatch"]["components"]["schemas"]["ProblemDetail"]
    assert "missing_conditions" not in problem["required"]
    question = documents["feedback"]["components"]["schemas"]
    assert set(question["Question"]["required"]) == set(question["Question"]["properties"])
    assert set(question["QuestionInput"].get("required", [])) < set(question["QuestionInput"]["properties"])


def test_every_route_of_every_service_has_its_endpoint_name_as_operation_id() -> None:
    from services.onsite.main import create_app
    from services.onsite.settings import OnsiteSettings

    app = create_app(OnsiteSettings(environment="test", log_json=False))
    document = app.openapi()
    for route in api_routes(app.routes):
        if route.include_in_schema:
            method = sorted(route.methods or ())[0].lower()
            assert document["paths"][route.path_format][method]["operationId"] == operation_id(route)


def test_every_write_documents_the_idempotency_key_and_its_replay_marker(
        documents: dict[str, dict[str, Any]]) -> None:
    writes = 0
    for service, document in documents.items():
        for method, path, operation in _operations(document):
            if method not in {"post", "put", "patch", "delete"} or "operations" in operation.get("tags", []):
                continue
            writes += 1
            keys = [p for p in operation.get("parameters", []) if p["in"] == "header"
                    and p["name"].lower() == "idempotency-key"]
            assert len(keys) == 1 and "128" in str(keys[0]["schema"]), (service, method, path)
            for code, response in operation["responses"].items():
                if code.startswith("2"):
                    assert "Idempotent-Replayed" in response.get("headers", {}), (service, method, path, code)
            assert operation["responses"]["409"]["content"][MEDIA_TYPE]["schema"]["$ref"].endswith("ProblemDetail")
    assert writes > 100
