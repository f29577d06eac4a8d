"""The onsite service: everything on site up to the signed receipt and departure (S8-S33)."""

from __future__ import annotations

from fastapi import FastAPI

from services.onsite.handlers import handlers
from services.onsite.settings import OnsiteSettings, get_settings
from services.onsite.visits.router import router as visits_router
from shared.api.app import ServiceDefinition, create_service_app


def create_app(settings: OnsiteSettings | None = None) -> FastAPI:
    return create_service_app(ServiceDefinition(
        name="onsite",
        title="Onsite service",
        description="The site visit of a dispatched case: three calls and arrival, briefing, sign-in, "
                    "permits, work by the ticket, safety, evidence, checks, closing and the signed "
                    "receipt (steps S8-S33 of the standard).",
        settings=settings or get_settings(),
        routers=[visits_router],
        handlers=handlers,
        subscribes_to=["dispatch", "quality"],
    ))
