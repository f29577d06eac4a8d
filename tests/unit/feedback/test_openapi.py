"""The API the call-centre tool reads: roles on every operation, examples, idempotency documented."""

from __future__ import annotations

from services.feedback.main import create_app
from services.feedback.settings import FeedbackSettings

PUBLIC = {"/healthz", "/readyz", "/metrics", "/survey-links/{token}", "/survey-links/{token}/answers"}


def test_every_operation_but_the_customer_link_declares_its_roles():
    spec = create_app(FeedbackSettings(log_json=False)).openapi()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if path in PUBLIC:
                assert "x-required-roles" not in op, (method, path)
            else:
                assert op["x-required-roles"], (method, path)
                assert "**Requires role:**" in op["description"]
    assert "call_centre_tool" in spec["paths"]["/follow-up-calls/{call_id}/outcome"]["post"]["x-required-roles"]


def test_creating_posts_document_the_idempotency_key_and_carry_examples():
    spec = create_app(FeedbackSettings(log_json=False)).openapi()
    for path in ("/follow-up-calls/{call_id}/attempts", "/follow-up-calls/{call_id}/outcome",
                 "/follow-up-calls/{call_id}/survey-responses", "/follow-up-calls/{call_id}/survey-links",
                 "/follow-up-calls/{call_id}/customer-information"):
        op = spec["paths"][path]["post"]
        assert "idempotency-key" in {p["name"].lower() for p in op["parameters"]}, path
        assert "428" in op["responses"], path
    schemas = spec["components"]["schemas"]
    for name in ("AttemptCreate", "OutcomeCreate", "SurveyAnswersCreate", "InformationCreate", "QuestionnaireCreate"):
        assert schemas[name]["examples"], name
