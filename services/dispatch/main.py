"""The dispatch service: requests from the CRM, staffing, plans, preparation (S1-S7), the case record."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from services.dispatch.board.router import router as board_router
from services.dispatch.cases.models import CaseStatus, ServiceCase
from services.dispatch.cases.router import router as cases_router
from services.dispatch.conditions.router import router as conditions_router
from services.dispatch.delays.router import router as delays_router
from services.dispatch.dispatching.router import router as dispatching_router
from services.dispatch.engineers.router import router as engineers_router
from services.dispatch.handlers import handlers
from services.dispatch.insight.page import router as insight_page
from services.dispatch.insight.router import router as insight_router
from services.dispatch.insight.service import collect_kpis
from services.dispatch.notifications.handlers import queue_notifications_handler
from services.dispatch.notifications.periodic import digest_job, retention_job
from services.dispatch.notifications.router import router as notifications_router
from services.dispatch.notifications.worker import NotificationWorker, backlog_collector
from services.dispatch.periodic import postponement_check
from services.dispatch.personal_data.router import router as personal_data_router
from services.dispatch.plans.router import router as plans_router
from services.dispatch.preparation.router import router as preparation_router
from services.dispatch.record.router import router as record_router
from services.dispatch.replanning.router import router as replanning_router
from services.dispatch.routing.router import router as routing_router
from services.dispatch.settings import DispatchSettings, get_settings
from services.dispatch.specifications.router import router as specifications_router
from services.dispatch.staffing.router import router as staffing_router
from services.dispatch.suggestions.router import router as suggestions_router
from services.dispatch.webhooks.router import router as webhooks_router
from services.dispatch.webhooks.worker import WebhookWorker, collect_backlog
from shared.api.app import ServiceDefinition, ServiceRuntime, create_service_app
from shared.api.links import ResourceLink
from shared.observability import CASES_BY_STATUS
from shared.settings import ALL_SERVICES


async def collect_cases_by_status(runtime: ServiceRuntime) -> None:
    """/metrics: how many cases are in each status now."""
    async with runtime.sessions() as session:
        rows: dict[str, int] = dict((await session.execute(
            select(col(ServiceCase.status), func.count()).group_by(col(ServiceCase.status)))).all())
    for status in CaseStatus:
        CASES_BY_STATUS.labels("dispatch", status.value).set(rows.get(status.value, 0))


# OpenAPI links: where the id of each resource comes from (clients and stateful fuzzing)
LINKS = [
    ResourceLink("POST", "/crm/service-requests", "201", "case_id"),
    ResourceLink("GET", "/cases", "200", "case_id", "$response.body#/items/0/id"),
    ResourceLink("POST", "/cases/{case_id}/plans", "201", "plan_id"),
    ResourceLink("GET", "/staffing-requests", "200", "request_id", "$response.body#/items/0/id"),
    ResourceLink("GET", "/routed-items", "200", "item_id", "$response.body#/items/0/id"),
    ResourceLink("POST", "/webhook-subscriptions", "201", "subscription_id"),
]


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # outbound webhooks (decision 0083); on app.state so tests can drive its clock
    webhook_worker = WebhookWorker(settings)
    # notifications to people (decision 0090); on app.state so tests can pin its clock and adapter
    notification_worker = NotificationWorker(settings)
    app_handlers = handlers.copy()
    app_handlers.on_batch(queue_notifications_handler(notification_worker))
    app = create_service_app(ServiceDefinition(
        name="dispatch",
        title="Dispatch service",
        description="Service requests from the CRM, condition calls, staffing, service plans, "
                    "specification packs, preparation and dispatch (steps S1-S7 of the standard), "
                    "staffing requests (S12), routing (S22-S24), and the case record with its timeline "
                    "and conformance.",
        settings=settings,
        routers=[cases_router, conditions_router, engineers_router, staffing_router, plans_router,
                 specifications_router, preparation_router, dispatching_router, delays_router, routing_router,
                 record_router, suggestions_router, replanning_router, board_router, webhooks_router,
                 notifications_router, insight_router, insight_page, personal_data_router],
        handlers=app_handlers,
        subscribes_to=list(ALL_SERVICES),
        periodic=[(settings.postponement_check_seconds, postponement_check()),
                  *([(settings.webhook_poll_seconds, webhook_worker.job())] if settings.webhook_worker_enabled
                    else []),
                  *([(settings.notify_poll_seconds, notification_worker.job())] if settings.notify_worker_enabled
                    else []),
                  (settings.notify_digest_check_seconds, digest_job(notification_worker)),
                  (settings.notify_retention_check_seconds,
                   retention_job(lambda: notification_worker.clock(), settings))],
        metrics_collectors=[collect_cases_by_status, collect_backlog,
                            backlog_collector(lambda: notification_worker.clock()), collect_kpis],
        links=LINKS,
    ))
    app.state.webhook_worker = webhook_worker
    app.state.notification_worker = notification_worker
    return app


app = create_app
