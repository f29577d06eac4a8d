"""The service application factory: one shape for all four services.

`create_service_app` wires settings, the database, problem details, authentication, health
and metrics endpoints, and starts the outbox relay, the event consumer and the service's
periodic jobs as background tasks for the life of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Annotated, Literal

from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.api.auth import TokenVerifier, annotate_openapi
from shared.api.docs import install_offline_docs
from shared.api.idempotency import (
    IdempotencyRecorder,
    KeyInUse,
    Replay,
    check_idempotency_key,
    purge_expired_keys,
    raced_response,
    replay_response,
)
from shared.api.links import ResourceLink
from shared.api.middleware import RequestContextMiddleware
from shared.api.openapi import install_openapi, operation_id
from shared.api.problems import (
    PROBLEM_RESPONSES,
    bind_case_to_logs,
    document_not_found,
    install_problem_handlers,
    reject_unknown_query_parameters,
)
from shared.db import make_engine, make_sessionmaker
from shared.events import EventEnvelope
from shared.messaging.consumer import EventConsumer, EventHandlers
from shared.messaging.relay import OutboxRelay
from shared.observability import (
    CONSUMER_LAG,
    DEAD_LETTERS,
    EVENTS_PROCESSED,
    HANDLER_DURATION,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    RELAY_ACTIVE,
    configure_logging,
)
from shared.privacy import PrivacyDeclaration
from shared.settings import ServiceSettings
from shared.tracing import configure_tracing

log = logging.getLogger(__name__)

PeriodicJob = Callable[["ServiceRuntime"], Awaitable[None]]


@dataclass
class ServiceDefinition:
    """What makes a service: its routers, the events it handles and its periodic jobs."""

    name: str
    title: str
    description: str
    settings: ServiceSettings
    routers: list[APIRouter]
    handlers: EventHandlers = field(default_factory=EventHandlers)
    subscribes_to: list[str] = field(default_factory=list)
    periodic: list[tuple[float, PeriodicJob]] = field(default_factory=list)
    metrics_collectors: list[Callable[[ServiceRuntime], Awaitable[None]]] = field(default_factory=list)
    links: list[ResourceLink] = field(default_factory=list)  # OpenAPI links from creates to uses
    # personal data (decision 0093): None reads `services/<name>/privacy.py`'s PRIVACY when there is one
    privacy: PrivacyDeclaration | None = None


@dataclass
class ServiceRuntime:
    """What a running service holds; kept on `app.state.runtime`."""

    settings: ServiceSettings
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    consumer: EventConsumer
    stop: asyncio.Event
    tasks: list[asyncio.Task] = field(default_factory=list)


def declared_privacy(service: str) -> PrivacyDeclaration | None:
    """A service's personal data declaration (`services/<service>/privacy.py`), found by name like its tables
    (shared/migrations.py), so every service gets the same personal data endpoints and purge."""
    try:
        module = importlib.import_module(f"services.{service}.privacy")
    except ModuleNotFoundError:
        return None
    declaration = getattr(module, "PRIVACY", None)
    return declaration if isinstance(declaration, PrivacyDeclaration) else None


def with_personal_data(defn: ServiceDefinition) -> ServiceDefinition:
    """The definition with the personal data router (export, erasure, access log) and the retention purge."""
    from shared.api.personal_data import personal_data_router, retention_job  # they build on this module

    privacy = defn.privacy or declared_privacy(defn.name)
    if privacy is None:
        return defn
    return replace(defn, privacy=privacy, routers=[*defn.routers, personal_data_router(privacy)],
                   periodic=[*defn.periodic, (defn.settings.personal_data_purge_interval_s, retention_job(privacy))])


async def request_checks(request: Request) -> None:
    """Every operation's checks, in this order: unknown query parameters refused, the case id bound to the
    log lines, an Idempotency-Key replayed, refused or marked pending. One app-wide dependency rather than
    three: the framework resolves each dependency of every request anew (decision 0098)."""
    await reject_unknown_query_parameters(request)
    await bind_case_to_logs(request)
    await check_idempotency_key(request)


def create_service_app(defn: ServiceDefinition) -> FastAPI:
    defn = with_personal_data(defn)
    settings = defn.settings
    if settings.log_json:
        configure_logging(settings.service_name, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        stop = asyncio.Event()
        topics = [settings.topic(s) for s in defn.subscribes_to]
        runtime = ServiceRuntime(
            settings=settings,
            sessions=sessions,
            relay=OutboxRelay(settings),
            consumer=EventConsumer(settings, sessions, defn.handlers, topics),
            stop=stop,
        )
        runtime.consumer.on_processed = _observe_handler(settings.service_name)
        app.state.runtime = runtime
        app.state.sessions = sessions
        app.state.broker_probe = BrokerProbe(settings)
        if settings.relay_enabled:
            runtime.tasks.append(asyncio.create_task(runtime.relay.run(stop), name="outbox-relay"))
        if settings.consumer_enabled and topics:
            runtime.tasks.append(asyncio.create_task(runtime.consumer.run(stop), name="consumer"))
        runtime.tasks.append(asyncio.create_task(
            _every(3600, _purge_idempotency_keys, runtime), name="purge_idempotency_keys"))
        for interval, job in defn.periodic:
            runtime.tasks.append(asyncio.create_task(_every(interval, job, runtime), name=job.__name__))
        tune_garbage_collector(settings)
        try:
            yield
        finally:
            stop.set()
            for task in runtime.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 15)
            await app.state.broker_probe.close()
            await engine.dispose()

    app = FastAPI(
        docs_url=None, redoc_url=None,  # served from local assets below (install_offline_docs), not CDNs
        dependencies=[Depends(request_checks)],
        title=defn.title,
        description=defn.description,
        version="0.1.0",
        lifespan=lifespan,
        responses={k: v for k, v in PROBLEM_RESPONSES.items() if k in (401, 403, 422, 503)},
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(settings)
    app.add_middleware(IdempotencyRecorder)  # inside the body limits, outside the endpoint
    app.add_middleware(
        RequestContextMiddleware, service=settings.service_name,
        max_body=settings.max_request_body_bytes, max_upload=settings.max_upload_bytes,
    )
    install_problem_handlers(app)
    app.add_exception_handler(Replay, replay_response)
    app.add_exception_handler(KeyInUse, raced_response)
    install_offline_docs(app)
    if configure_tracing(settings.service_name):
        FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    app.include_router(_operational_router(defn))
    for router in defn.routers:
        annotate_openapi(router)
        document_not_found(router.routes)
        app.include_router(router)
    install_openapi(app, defn.links)  # operation ids, problems, headers, required fields; the links
    return app


def tune_garbage_collector(settings: ServiceSettings) -> None:
    """Fewer, cheaper collections: the pauses of the cyclic collector were the slowest requests.

    What exists after start-up (modules, models, compiled statements) lives as long as the
    process: `gc.freeze()` takes it out of every later collection. A larger first-generation
    threshold collects less often (a request allocates thousands of short-lived objects that
    reference counting frees anyway). Measured in decision 0064.
    """
    if settings.gc_gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(settings.gc_gen0_threshold, 20, 20)


async def _purge_idempotency_keys(runtime: ServiceRuntime) -> None:
    await purge_expired_keys(runtime.sessions, runtime.settings.idempotency_key_ttl_hours)


async def _every(interval: float, job: PeriodicJob, runtime: ServiceRuntime) -> None:
    while not runtime.stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.stop.wait(), interval)
        if runtime.stop.is_set():
            return
        try:
            await job(runtime)
        except Exception:
            log.exception("periodic job %s failed", job.__name__)


def _observe_handler(service: str) -> Callable[[EventEnvelope, float], None]:
    def observe(envelope: EventEnvelope, seconds: float) -> None:
        HANDLER_DURATION.labels(service, envelope.type).observe(seconds)
        EVENTS_PROCESSED.labels(service, envelope.type).inc()

    return observe


class BrokerProbe:
    """Answers 'is the broker reachable' for /readyz with a real metadata round trip."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._admin: AIOKafkaAdminClient | None = None

    async def check(self, timeout: float = 2.0) -> None:
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(
                bootstrap_servers=self.settings.kafka_bootstrap_servers, request_timeout_ms=int(timeout * 1000),
                client_id=f"{self.settings.service_name}-probe",
            )
            try:
                await asyncio.wait_for(self._admin.start(), timeout)
            except BaseException:
                await self.close()
                raise
        try:
            await asyncio.wait_for(self._admin.list_topics(), timeout)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(admin.close(), 2)


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The service's session factory; open a unit of work with `shared.db.transaction`."""
    return request.app.state.sessions


Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"]
    service: str


class Readiness(BaseModel):
    """Each dependency's state: `ok` or why it is unreachable."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]


def _operational_router(defn: ServiceDefinition) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is up", response_model=Liveness)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": defn.name}

    @router.get("/readyz", summary="Readiness: database and broker reachable", response_model=Readiness,
                responses={503: {"model": Readiness, "description": "A dependency is unreachable"}})
    async def readyz(request: Request, response: Response) -> dict[str, object]:
        checks: dict[str, str] = {}
        try:
            async with request.app.state.sessions() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            await request.app.state.broker_probe.check()
            checks["broker"] = "ok"
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            checks["broker"] = f"unreachable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", "checks": checks}

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response, responses={200: {
        "description": "The Prometheus text exposition format",
        "content": {"text/plain": {"schema": {"type": "string"}}}}})
    async def metrics(request: Request) -> Response:
        runtime: ServiceRuntime = request.app.state.runtime
        name = defn.settings.service_name
        RELAY_ACTIVE.labels(name).set(1 if runtime.relay.active else 0)
        with contextlib.suppress(Exception):
            async with runtime.sessions() as session:
                row = (await asyncio.wait_for(session.execute(text(
                    "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM outbox_message "
                    "WHERE sent_at IS NULL")), 2)).one()
            OUTBOX_BACKLOG.labels(name).set(row[0])
            OUTBOX_OLDEST_AGE.labels(name).set(float(row[1] or 0))
        DEAD_LETTERS.labels(name).set(runtime.consumer.stats.dead_lettered)
        for key, lag in runtime.consumer.stats.lag.items():
            topic, partition = key.rsplit(":", 1)
            CONSUMER_LAG.labels(name, topic, partition).set(lag)
        for collect in defn.metrics_collectors:
            with contextlib.suppress(Exception):
                await collect(runtime)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
