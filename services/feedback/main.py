"""The feedback service: follow-up calls and surveys for the call-centre tool (S30-S34)."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlmodel import col

from services.feedback.calls import service as calls
from services.feedback.calls.models import CallStatus, FollowUpCall
from services.feedback.calls.router import router as calls_router
from services.feedback.calls.service import CallPolicy
from services.feedback.clock import Clock
from services.feedback.complaints.router import router as complaints_router
from services.feedback.handlers import build_handlers
from services.feedback.information.router import router as information_router
from services.feedback.measures.router import router as measures_router
from services.feedback.settings import FeedbackSettings, get_settings
from services.feedback.surveys.router import router as surveys_router
from shared.api.app import PeriodicJob, ServiceDefinition, ServiceRuntime, create_service_app
from shared.api.links import ResourceLink
from shared.db import transaction
from shared.observability import FOLLOW_UP_CALLS_DUE

log = logging.getLogger(__name__)

FOLLOW_UP_CALLS = Gauge("feedback_follow_up_calls", "Follow-up calls by state (due = in the agents' queue now)",
                        ["state"])


def follow_up_sweep(settings: FeedbackSettings, clock: Clock) -> PeriodicJob:
    """S34 periodic check: expired leases back to the queue, retry periods over -> unreachable."""
    policy = CallPolicy.from_settings(settings)

    async def sweep_follow_up_calls(runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessions) as session:
            counts = await calls.sweep(session=session, now=clock.now(), policy=policy)
        if counts["leases_expired"] or counts["closed_unreachable"]:
            log.info("follow-up sweep: %s", counts)

    return sweep_follow_up_calls


def follow_up_metrics(clock: Clock) -> PeriodicJob:
    """/metrics: how many calls wait in the queue, are held, are scheduled for later."""

    async def collect_follow_up_calls(runtime: ServiceRuntime) -> None:
        now = clock.now()
        async with runtime.sessions() as session:
            due = (await session.execute(select(func.count()).select_from(
                calls.queue_stmt(now).subquery()))).scalar_one()
            held = (await session.execute(select(func.count()).select_from(FollowUpCall).where(
                col(FollowUpCall.status) == CallStatus.SCHEDULED, col(FollowUpCall.lease_expires_at) > now
            ))).scalar_one()
            scheduled = (await session.execute(select(func.count()).select_from(FollowUpCall).where(
                col(FollowUpCall.status) == CallStatus.SCHEDULED))).scalar_one()
        FOLLOW_UP_CALLS.labels("due").set(due)
        FOLLOW_UP_CALLS.labels("held").set(held)
        FOLLOW_UP_CALLS.labels("scheduled").set(scheduled)
        FOLLOW_UP_CALLS_DUE.labels("feedback").set(due)

    return collect_follow_up_calls


# OpenAPI links: where the id of each resource comes from (clients and stateful fuzzing)
LINKS = [
    ResourceLink("GET", "/follow-up-calls", "200", "call_id", "$response.body#/items/0/id"),
    ResourceLink("GET", "/customer-information", "200", "info_id", "$response.body#/items/0/id"),
]


def create_app(settings: FeedbackSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or Clock()
    sweep = follow_up_sweep(settings, clock)
    app = create_service_app(ServiceDefinition(
        name="feedback",
        title="Feedback service",
        description="Follow-up calls for the call-centre tool (queue, claims with leases, attempts, outcomes), "
                    "surveys and ratings (CSAT, NPS), training evaluations, complaints back to quality, and "
                    "customer information routed and answered (S30-S34).\n\n"
                    "**For the call-centre tool** (role `call_centre_tool`): name the agent you act for in "
                    "`agent`; send `Idempotency-Key` on every creating POST (a retry returns the first "
                    "response); lists are keyset-paginated (pass `next_cursor` back as `cursor`); errors are "
                    "RFC 9457 problem details.",
        settings=settings,
        routers=[calls_router, surveys_router, complaints_router, information_router, measures_router],
        handlers=build_handlers(settings, clock),
        subscribes_to=["onsite", "quality"],
        periodic=[(settings.follow_up_sweep_seconds, sweep)],
        metrics_collectors=[follow_up_metrics(clock)],
        links=LINKS,
    ))
    app.state.clock = clock
    app.state.follow_up_sweep = sweep
    return app
