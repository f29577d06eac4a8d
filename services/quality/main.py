"""The quality service: closed-loop quality issues (S25), repairs (S28), complaints (S34)."""

from __future__ import annotations

from fastapi import FastAPI

from services.quality.handlers import handlers
from services.quality.issues.router import router as issues_router
from services.quality.settings import QualitySettings, get_settings
from shared.api.app import ServiceDefinition, create_service_app


def create_app(settings: QualitySettings | None = None) -> FastAPI:
    return create_service_app(ServiceDefinition(
        name="quality",
        title="Quality service",
        description="Product quality problems found on site (S25): registered, fixed on site or "
                    "escalated into the closed loop; repair orders (S28); complaints from follow-up (S34).",
        settings=settings or get_settings(),
        routers=[issues_router],
        handlers=handlers,
        subscribes_to=["dispatch", "onsite", "feedback"],
    ))
