"""The dispatch service: requests from the CRM, staffing, plans, preparation (S1-S7)."""

from __future__ import annotations

from fastapi import FastAPI

from services.dispatch.cases.router import router as cases_router
from services.dispatch.handlers import handlers
from services.dispatch.settings import DispatchSettings, get_settings
from shared.api.app import ServiceDefinition, create_service_app
from shared.settings import ALL_SERVICES


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    return create_service_app(ServiceDefinition(
        name="dispatch",
        title="Dispatch service",
        description="Service requests from the CRM, condition calls, staffing, service plans, "
                    "specification packs, preparation and dispatch (steps S1-S7 of the standard), "
                    "and the case record with its timeline.",
        settings=settings or get_settings(),
        routers=[cases_router],
        handlers=handlers,
        subscribes_to=list(ALL_SERVICES),
    ))


app = create_app
