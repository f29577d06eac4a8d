"""The quality service: closed-loop quality issues (S25), repairs (S28), complaints (S34)."""

from __future__ import annotations

from fastapi import FastAPI

from services.quality.catalogue.router import router as catalogue_router
from services.quality.evidence.router import router as evidence_router
from services.quality.handlers import handlers
from services.quality.issues.router import router as issues_router
from services.quality.repairs.router import router as repairs_router
from services.quality.reports.router import router as reports_router
from services.quality.reports.service import count_past_sla
from services.quality.settings import QualitySettings, get_settings
from services.quality.sla.router import router as sla_router
from services.quality.sla.service import sla_clock_job
from shared.api.app import ServiceDefinition, ServiceRuntime, create_service_app
from shared.api.links import ResourceLink
from shared.clock import utcnow
from shared.observability import ISSUES_PAST_SLA


async def collect_issues_past_sla(runtime: ServiceRuntime) -> None:
    """/metrics: open issues past an SLA deadline now."""
    async with runtime.sessions() as session:
        ISSUES_PAST_SLA.labels("quality").set(await count_past_sla(session=session, now=utcnow()))


# OpenAPI links: where the id of each resource comes from (clients and stateful fuzzing)
LINKS = [
    ResourceLink("POST", "/issues", "201", "issue_id"),
    ResourceLink("GET", "/issues", "200", "issue_id", "$response.body#/items/0/id"),
    ResourceLink("POST", "/issues/{issue_id}/evidence", "201", "evidence_id"),
    ResourceLink("POST", "/repair-orders", "201", "order_id"),
]


def create_app(settings: QualitySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(ServiceDefinition(
        name="quality",
        title="Quality service",
        description="Product quality problems found on site (S25): registered, fixed on site or "
                    "escalated into the closed loop; repair orders (S28); complaints from follow-up (S34).",
        settings=settings,
        routers=[issues_router, evidence_router, catalogue_router, sla_router, repairs_router, reports_router],
        handlers=handlers,
        subscribes_to=["dispatch", "onsite", "feedback"],
        periodic=[(settings.sla_check_interval_seconds, sla_clock_job)],
        metrics_collectors=[collect_issues_past_sla],
        links=LINKS,
    ))
