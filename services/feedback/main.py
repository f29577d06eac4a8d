"""The feedback service: follow-up calls and surveys for the call-centre tool (S30-S34)."""

from __future__ import annotations

from fastapi import FastAPI

from services.feedback.calls.router import router as calls_router
from services.feedback.handlers import build_handlers
from services.feedback.settings import FeedbackSettings, get_settings
from shared.api.app import ServiceDefinition, create_service_app


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(ServiceDefinition(
        name="feedback",
        title="Feedback service",
        description="Follow-up calls for the call-centre tool (queue, attempts, outcomes), surveys and "
                    "ratings, training evaluations and customer information (S30-S34).",
        settings=settings,
        routers=[calls_router],
        handlers=build_handlers(settings),
        subscribes_to=["onsite", "quality"],
    ))
