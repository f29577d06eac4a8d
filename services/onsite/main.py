"""The onsite service: everything on site up to the signed receipt and departure (S8-S33)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from services.onsite.agenda.router import router as agenda_router
from services.onsite.closing.router import router as closing_router
from services.onsite.evidence.router import router as evidence_router
from services.onsite.evidence.uploads.jobs import purge_expired_uploads_job
from services.onsite.evidence.uploads.router import router as evidence_uploads_router
from services.onsite.handlers import handlers
from services.onsite.presence.jobs import missing_presence_job
from services.onsite.presence.router import router as presence_router
from services.onsite.settings import OnsiteSettings, get_settings
from services.onsite.site_records.jobs import consequences_job
from services.onsite.site_records.router import router as records_router
from services.onsite.sync.router import router as sync_router
from services.onsite.visits.models import SiteVisit, VisitStatus
from services.onsite.visits.router import router as visits_router
from services.onsite.work.router import router as work_router
from shared.api.app import ServiceDefinition, ServiceRuntime, create_service_app
from shared.api.links import ResourceLink
from shared.observability import VISITS_ON_SITE


async def collect_visits_on_site(runtime: ServiceRuntime) -> None:
    """/metrics: visits with engineers on site now."""
    async with runtime.sessions() as session:
        count = (await session.execute(select(func.count()).select_from(SiteVisit).where(
            col(SiteVisit.status) == VisitStatus.ON_SITE))).scalar_one()
    VISITS_ON_SITE.labels("onsite").set(count)


# OpenAPI links: where the id of each resource comes from (clients and stateful fuzzing)
LINKS = [
    ResourceLink("GET", "/visits", "200", "visit_id", "$response.body#/items/0/id"),
    ResourceLink("POST", "/visits/{visit_id}/tasks", "201", "task_id"),
    ResourceLink("POST", "/visits/{visit_id}/milestones", "201", "milestone_id"),
    ResourceLink("POST", "/visits/{visit_id}/evidence", "201", "evidence_id"),
    ResourceLink("POST", "/visits/{visit_id}/evidence-uploads", "201", "upload_id"),
]


def create_app(settings: OnsiteSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(ServiceDefinition(
        name="onsite",
        title="Onsite service",
        description="The site visit of a dispatched case: three calls and arrival, briefing, sign-in, "
                    "permits, work by the ticket, safety, evidence, checks, closing and the signed "
                    "receipt (steps S8-S33 of the standard).",
        settings=settings,
        routers=[visits_router, work_router, evidence_router, evidence_uploads_router, presence_router, records_router,
                 closing_router, agenda_router, sync_router],
        handlers=handlers,
        subscribes_to=["dispatch", "quality"],
        periodic=[(settings.presence_check_interval_s, missing_presence_job()),
                  (settings.presence_check_interval_s, consequences_job()),
                  (settings.evidence_upload_purge_interval_s, purge_expired_uploads_job())],
        metrics_collectors=[collect_visits_on_site],
        links=LINKS,
    ))
