"""Problems in Chinese and English by Accept-Language, on the four running services (issue 16, decision 0094).

Each service answers a representative problem (dispatch: the S1-S6 dispatch gate with its missing
conditions; onsite, quality, feedback: an unknown resource) and a validation error, in the language
asked for, with `Content-Language`; the OpenAPI document of each labels its enumerations in both.
"""

# ruff: noqa: RUF001  # the expected Chinese uses its own punctuation (full-width colons, semicolons)

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from devstack.client import StackClient, sample_request

pytestmark = pytest.mark.e2e

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
HAN = re.compile(r"[\u4e00-\u9fff]")
STEP = re.compile(r"S\d+")


def _is_chinese(text: str) -> bool:
    return bool(HAN.search(text))


def _problem(response: httpx.Response, status: int, language: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["content-language"] == language
    body: dict[str, Any] = response.json()
    readable = [body["title"], body["detail"], *(body.get("missing_conditions") or []),
                *(e["message"] for e in body.get("errors") or [])]
    for text in readable:
        assert _is_chinese(text) == (language == "zh"), (language, text)
    return body


def test_the_dispatch_gate_refuses_in_the_callers_language(stack: Any, client: StackClient) -> None:
    http = client.http["dispatch"]
    dispatcher = client.as_("dispatcher", "disp-i18n")
    created = client.crm_push(sample_request(f"CRM-I18N-{uuid.uuid4().hex[:8]}"))
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    assert http.post(f"/cases/{case_id}/acknowledge", headers=dispatcher).status_code == 200

    zh = _problem(http.post(f"/cases/{case_id}/dispatch", headers={**dispatcher, **ZH}), 409, "zh")
    en = _problem(http.post(f"/cases/{case_id}/dispatch", headers={**dispatcher, **EN}), 409, "en")
    assert en["title"] == "Gate refused" and zh["title"] == "条件未满足"
    assert zh["gate"] == en["gate"] and zh["type"] == en["type"]  # machine members stay as they are
    assert len(zh["missing_conditions"]) == len(en["missing_conditions"]) >= 3
    assert "S2: the service conditions are not confirmed with the customer" in en["missing_conditions"]
    assert "S2：尚未与客户确认服务条件" in zh["missing_conditions"]
    assert "S3：尚未安排工程师" in zh["missing_conditions"]
    # the steps of the standard are named alike in both, so a client can match them
    assert [STEP.match(c)[0] for c in zh["missing_conditions"]] == \
        [STEP.match(c)[0] for c in en["missing_conditions"]]

    # no Accept-Language: the configured default (DEFAULT_LANGUAGE, English unless set)
    default = http.post(f"/cases/{case_id}/dispatch", headers=dispatcher)
    assert default.headers["content-language"] == "en"
    assert default.json()["missing_conditions"] == en["missing_conditions"]


def test_each_service_answers_problems_and_validation_errors_in_zh_and_en(stack: Any, client: StackClient) -> None:
    unknown = uuid.uuid4()
    dispatcher = client.as_("dispatcher", "disp-i18n")
    probes: list[tuple[str, str, str, dict[str, str], int, str]] = [
        ("onsite", "get", f"/visits/{unknown}", client.as_("dispatcher", "disp-i18n"), 404, "现场服务"),
        ("quality", "get", f"/issues/{unknown}", client.as_("quality_engineer", "qe-i18n", unit="QA-1"), 404,
         "质量问题"),
        ("feedback", "get", "/survey-links/no-such-token-0123456789", {}, 404, "调查链接"),
        ("dispatch", "get", f"/cases/{unknown}", dispatcher, 404, "服务工单"),
    ]
    for service, method, path, auth, status, words in probes:
        http = client.http[service]
        zh = _problem(http.request(method, path, headers={**auth, **ZH}), status, "zh")
        en = _problem(http.request(method, path, headers={**auth, **EN}), status, "en")
        assert words in zh["detail"], (service, zh)
        assert zh["type"] == en["type"]

    # validation errors: pydantic's messages by their type, the field names unchanged
    invalid: list[tuple[str, str, str, dict[str, str], dict[str, Any] | None]] = [
        ("dispatch", "post", "/engineers", dispatcher, {}),
        ("quality", "post", "/issues", client.as_("engineer", "eng-i18n"), {}),
        ("onsite", "get", "/visits?limit=many", client.as_("dispatcher", "disp-i18n"), None),
        ("feedback", "get", "/follow-up-calls?limit=many", client.as_("call_centre_agent", "agent-i18n"), None),
    ]
    for service, method, path, auth, body in invalid:
        http = client.http[service]
        zh = _problem(http.request(method, path, headers={**auth, **ZH}, json=body), 422, "zh")
        en = _problem(http.request(method, path, headers={**auth, **EN}, json=body), 422, "en")
        assert zh["title"] == "输入无效" and en["title"] == "Invalid input", service
        assert [e["field"] for e in zh["errors"]] == [e["field"] for e in en["errors"]], service
        assert [e["type"] for e in zh["errors"]] == [e["type"] for e in en["errors"]], service
        if any(e["type"] == "missing" for e in en["errors"]):
            assert any(e["message"] == "缺少必填字段" for e in zh["errors"]), service


def test_every_service_labels_its_enumerations_in_both_languages(stack: Any, client: StackClient) -> None:
    expected = {"dispatch": ("CaseStatus", "on_site", "在现场"), "onsite": ("TaskStatus", "started", "已开始"),
                "quality": ("IssueStatus", "escalated", "已上报"), "feedback": ("CallStatus", "scheduled", "已安排")}
    for service, (enum, value, chinese) in expected.items():
        # the document is built on its first request: slow on a loaded machine
        schemas = client.http[service].get("/openapi.json", timeout=120).json()["components"]["schemas"]
        labels = schemas[enum]["x-enum-labels"]
        assert set(labels) == {"en", "zh"}
        assert set(labels["zh"]) == set(labels["en"]) == set(schemas[enum]["enum"])
        assert labels["zh"][value] == chinese and not _is_chinese(labels["en"][value])
        labelled = [s for s in schemas.values() if "x-enum-labels" in s]
        assert all(all(s["x-enum-labels"]["zh"].values()) for s in labelled)
        # inline choices (Literal[...] properties) are labelled too
        inline = [p for s in schemas.values() for p in (s.get("properties") or {}).values()
                  if "enum" in p and "x-enum-labels" in p]
        assert inline, service
        assert all(set(p["x-enum-labels"]["zh"]) == set(p["enum"]) for p in inline)
