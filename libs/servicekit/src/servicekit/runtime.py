"""One service process: FastAPI for HTTP and a FastStream Kafka broker in the same event loop.

runtime = ServiceRuntime(settings)
tickets = TicketStore(runtime.db)             # the service's own stores
runtime.add_aggregates(tickets.aggregates)     # their outboxes are relayed
runtime.consume(build_event_router(tickets))   # what it consumes
app = runtime.create_app(title="Ticketing", routers=[api.router], errors=ERROR_STATUS)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import structlog
from contracts import Envelope
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pymongo.asynchronous.database import AsyncDatabase
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.asyncapi import asyncapi_document
from servicekit.idempotency import IdempotencyKeyReused, IdempotencyKeys
from servicekit.kafka import (
    BatchConsumer,
    ConsumerHealth,
    ConsumerMetrics,
    EventProducer,
    EventRouter,
    close_within,
    create_broker,
)
from servicekit.lifecycle import cancel_within, pause
from servicekit.logging import configure_logging
from servicekit.outbox import OutboxRelay
from servicekit.settings import ServiceSettings
from servicekit.store import AggregateStore, ConcurrentChange, Document, NotFound, connect

log = structlog.get_logger("servicekit.runtime")
T = TypeVar("T")
# What must be "ok" for /health/ready (the others, like the outbox backlog, are information).
READY_CHECKS = ("mongo", "kafka", "consumers", "publishing")

Hook = Callable[[], Awaitable[None]]
SLOW_STOP_STEP_SECONDS = 1.0  # a stop step at least this long is logged by name
STUCK_STOP_STEP_SECONDS = 5.0  # ... and one still running after this long, with where tasks wait


def _where_tasks_wait(limit: int = 40) -> list[str]:
    """Each task's chain of awaits (`function:line` from outermost to innermost), for a log line
    about a stop that hangs."""
    where = []
    for task in asyncio.all_tasks():
        chain: list[str] = []
        awaited: Any = task.get_coro()
        while awaited is not None and len(chain) < 12:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is None:
                break
            chain.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
        where.append(f"{task.get_name()}: {' > '.join(chain)}")
    return sorted(where)[:limit]


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings) -> None:
        configure_logging(settings.service_name, settings.log_level)
        self.settings = settings
        self.registry = CollectorRegistry()
        self.broker = create_broker(settings, self.registry)
        self.producer = EventProducer(settings)
        self.mongo = connect(settings.mongo_url, app_name=settings.service_name)
        self.db: AsyncDatabase[Document] = self.mongo[settings.database_name]
        self.consumer_health = ConsumerHealth()
        self.consumer_metrics = ConsumerMetrics(self.registry)
        self.routers: list[EventRouter] = []
        self.aggregates: list[AggregateStore] = []
        self.relay: OutboxRelay | None = None
        self.on_start: list[Hook] = []
        self.on_stop: list[Hook] = []
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self.started = False
        self._idempotency: IdempotencyKeys | None = None

    def idempotency(self) -> IdempotencyKeys:
        """The service's Idempotency-Key claims (indexed at start, swept every 10 minutes); routes
        get them through `servicekit.idempotency.Keys`."""
        if self._idempotency is None:
            self._idempotency = IdempotencyKeys(self.db, self.settings.idempotency_secret)
            self.on_start.append(self._idempotency.ensure_indexes)
            self.every(600, self._idempotency.sweep)
        return self._idempotency

    def add_aggregates(self, *stores: AggregateStore) -> None:
        self.aggregates.extend(stores)

    def consume(
        self, router: EventRouter, *, group_id: str | None = None, start_from_group: str | None = None
    ) -> None:
        """Consume what `router` handles, in the service's group or in `group_id`. `start_from_group`:
        where this group has never committed, it starts at that group's committed offsets (see
        BatchConsumer), so a group added to a live service does not re-read the retained records."""
        router.attach(
            self.settings,
            self.consumer_metrics,
            self.consumer_health,
            self._dead_letter,
            group_id=group_id,
            start_from_group=start_from_group,
        )
        self.routers.append(router)

    async def _dead_letter(self, body: bytes, topic: str, key: bytes | None, headers: dict[str, str]) -> None:
        await self.broker.publish(body, topic, key=key, headers=headers)

    def every(self, seconds: float, job: Callable[[], Awaitable[Any]]) -> None:
        """Run `job` periodically while the service runs (sweepers, end of day, reminders).

        On shutdown a run in progress is allowed to finish (a message half-sent by a cancelled job
        would be sent again after the restart).
        """

        async def loop() -> None:
            while not await pause(self._stopping, seconds):
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.warning("periodic job failed", job=getattr(job, "__name__", "job"), error=repr(error))

        self.background.append(loop)

    async def publish(self, envelope: Envelope) -> None:
        await self.producer.publish(envelope)

    async def start(self) -> None:
        self._stopping.clear()
        for hook in self.on_start:
            await hook()
        self.relay = OutboxRelay(
            self.aggregates, self.publish, self.registry, sweep_seconds=self.settings.outbox_sweep_seconds
        )
        await self.broker.start()
        await self.producer.start()
        await self.relay.start()
        consumers = [router.consumer for router in self.routers if router.consumer is not None]
        for consumer in consumers:  # before any of them polls: ours must not move the other group first
            await consumer.read_start_offsets()
        for consumer in consumers:
            await consumer.start()
        self._tasks = [asyncio.create_task(job()) for job in self.background]
        self.started = True
        log.info("service started", consumes=[t for r in self.routers for t in r.event_types])

    async def stop(self) -> None:
        """Finish in-flight handlers, flush the outbox, commit, close.

        Each step that takes a second or more is logged by name: a stop has a grace period
        (Kubernetes: 30 s) and the one that overran must be findable in the log afterwards."""
        self.started = False
        self._stopping.set()
        if self._tasks:
            await self._stop_step("periodic jobs", self._stop_background())
        for router in self.routers:
            if router.consumer is not None:
                with contextlib.suppress(Exception):
                    await self._stop_step(f"consumer {router.consumer.group_id}", router.consumer.stop())
        if self.relay is not None:
            await self._stop_step("outbox relay", self.relay.stop())
        for hook in self.on_stop:
            await self._stop_step(getattr(hook, "__qualname__", repr(hook)), hook())
        await self._stop_step("producer", self.producer.stop())
        await self._stop_step("broker", close_within(self.broker.stop(), "broker"))
        await self._stop_step("mongo client", self.mongo.close())
        log.info("service stopped")

    async def _stop_background(self) -> None:
        _, unfinished = await asyncio.wait(self._tasks, timeout=15)
        await cancel_within(unfinished, 5)  # a job that swallows its cancel is left behind

    async def _stop_step(self, step: str, work: Awaitable[Any]) -> None:
        began = time.monotonic()
        running = asyncio.ensure_future(work)
        try:
            # Still running after STUCK_STOP_STEP_SECONDS: say which step, and where each task
            # waits, before the grace period ends in a kill that would leave nothing to read.
            done, _ = await asyncio.wait([running], timeout=STUCK_STOP_STEP_SECONDS)
            if not done:
                log.warning("stop step still running", step=step, waiting_in=_where_tasks_wait())
            await running
        finally:
            seconds = time.monotonic() - began
            if seconds >= SLOW_STOP_STEP_SECONDS:
                log.warning("slow stop step", step=step, seconds=round(seconds, 1))

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(self.db.command("ping"), timeout=2)
            checks["mongo"] = "ok"
        except Exception as error:
            checks["mongo"] = f"unreachable: {type(error).__name__}"
        checks["kafka"] = "ok" if await self.broker.ping(timeout=2) else "unreachable"
        checks["consumers"] = self._consumer_state()
        # A producer that keeps failing leaves acknowledged changes unpublished: take no more.
        checks["publishing"] = "failing" if self.producer.consecutive_failures >= 3 else "ok"
        # As of the last sweep (bounded by its page size): readiness never reads the markers itself.
        checks["outbox_backlog"] = sum(self.relay.backlog_counts.values()) if self.relay is not None else 0
        return checks

    def _consumer_state(self) -> str:
        for router in self.routers:
            if router.consumer is None:
                continue  # consumes nothing
            if router.consumer.consumer is None:
                return "not started"
            stalled = self._stalled(router.consumer)
            if stalled:
                return stalled
        return "ok"

    def _stalled(self, consumer: BatchConsumer) -> str | None:
        # aiokafka#1037: a consumer can stop receiving after a failed commit. Notice it: lag on an
        # assigned partition while nothing arrived for consumer_stall_seconds.
        last = self.consumer_health.last_message_at or self.consumer_health.started_at
        if time.monotonic() - last < self.settings.consumer_stall_seconds:
            return None
        for (topic, partition), lag in consumer.lag().items():
            if lag > 0:
                return f"stalled on {topic}[{partition}]"
        return None

    def create_app(
        self,
        *,
        title: str,
        routers: Sequence[APIRouter] = (),
        errors: Mapping[type[Exception], int] | None = None,
        description: str = "",
        version: str = "1.0.0",
    ) -> FastAPI:
        runtime = self

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await runtime.start()
            try:
                yield
            finally:
                await runtime.stop()

        app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
        app.state.settings = self.settings
        app.state.runtime = self
        app.state.idempotency = self._idempotency
        for router in routers:
            app.include_router(router)
        app.include_router(self._operations_router())
        install_error_handlers(
            app, {NotFound: 404, ConcurrentChange: 409, IdempotencyKeyReused: 422, **(errors or {})}
        )
        limit_body_size(app, self.settings.max_body_bytes)
        self._instrument(app)
        document_errors(app)
        return app

    def _operations_router(self) -> APIRouter:
        router = APIRouter(tags=["operations"])
        runtime = self

        @router.get("/health/live")
        async def live() -> dict[str, str]:
            return {"status": "ok"}

        @router.get("/health/ready")
        async def ready() -> JSONResponse:
            checks = await runtime.readiness()
            ok = runtime.started and all(
                value == "ok"
                for key, value in checks.items()
                if key in ("mongo", "kafka", "consumers", "publishing")
            )
            return JSONResponse(
                {"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503
            )

        @router.get(
            "/asyncapi.json", summary="AsyncAPI 3 document of the events this service sends and receives"
        )
        async def asyncapi() -> dict[str, Any]:
            consumes = sorted({t for r in runtime.routers for t in r.event_types})
            return asyncapi_document(
                runtime.settings.service_name,
                consumes,
                runtime.settings.topic_prefix,
                runtime.settings.kafka_bootstrap,
            )

        @router.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            # The outbox backlog gauge is set by the sweeper; nothing here reads the store.
            return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)

        return router

    def _instrument(self, app: FastAPI) -> None:
        requests = Counter(
            "onewindow_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        latency = Histogram(
            "onewindow_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )

        class Measure(HttpMiddleware):
            """Requests and latency per route."""

            async def http(self, scope: Any, receive: Any, send: Any) -> None:
                started = time.perf_counter()
                status = [500]

                async def send_with_status(message: Any) -> None:
                    if message["type"] == "http.response.start":
                        status[0] = message["status"]
                    await send(message)

                try:
                    await self.app(scope, receive, send_with_status)
                finally:
                    route = getattr(scope.get("route"), "path", "unmatched")
                    requests.labels(scope["method"], route, str(status[0])).inc()
                    latency.labels(scope["method"], route).observe(time.perf_counter() - started)

        app.add_middleware(Measure)


class HttpMiddleware:
    """Plain ASGI middleware that acts on HTTP requests only (lifespan and websockets pass through);
    BaseHTTPMiddleware would cost a task per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        raise NotImplementedError


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def limit_body_size(app: FastAPI, limit: int) -> None:
    """Refuse request bodies over `limit` bytes with 413 and a reason: at once when Content-Length
    says so, else as soon as the streamed body passes it (the route's read raises, FastAPI keeps the
    HTTPException and the error handler answers JSON)."""

    class LimitBody(HttpMiddleware):
        async def http(self, scope: Any, receive: Any, send: Any) -> None:
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > limit:
                reason = BodyTooLarge(limit).detail
                response = JSONResponse({"reason": reason, "error": "body_too_large"}, status_code=413)
                await response(scope, receive, send)
                return
            received = 0

            async def counted() -> Any:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise BodyTooLarge(limit)
                return message

            await self.app(scope, counted, send)

    app.add_middleware(LimitBody)


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "description": (
        "Every refusal, whatever the service: `reason` in words for a person, `error` for a program "
        "(a domain error's name, `validation_error`, `http_error`, ...), `fields` naming each invalid "
        "field of a 422. Some errors add details of their own."
    ),
    "type": "object",
    "required": ["reason", "error"],
    "properties": {
        "reason": {"type": "string", "examples": ["this needs the role operator"]},
        "error": {"type": "string", "examples": ["validation_error"]},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def document_errors(app: FastAPI) -> None:
    """Every operation's OpenAPI answers document the error body the handlers below write: its 422
    (FastAPI's own shape replaced) and any other 4xx, so clients and the fuzz test check them too."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Error"] = ERROR_SCHEMA
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {
                        "description": "Invalid request: `fields` names each problem",
                        "content": body,
                    }
                responses["4XX"] = {"description": "Refused, with the reason", "content": body}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI, errors: Mapping[type[Exception], int]) -> None:
    """Domain errors -> HTTP status in one place; every error body is JSON with a `reason`."""

    async def domain_error(_: Request, error: Exception) -> JSONResponse:
        status = next(code for kind, code in errors.items() if isinstance(error, kind))
        body: dict[str, Any] = {"reason": str(error) or type(error).__name__, "error": type(error).__name__}
        body.update(getattr(error, "details", None) or {})
        return JSONResponse(body, status_code=status)

    for kind in errors:
        app.add_exception_handler(kind, domain_error)

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        return JSONResponse(
            {"reason": error.detail, "error": "http_error"},
            status_code=error.status_code,
            headers=error.headers,
        )

    async def validation_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = [
            {"field": ".".join(str(part) for part in item["loc"] if part != "body"), "message": item["msg"]}
            for item in error.errors()
        ]
        reason = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return JSONResponse(
            {"reason": reason, "error": "validation_error", "fields": problems}, status_code=422
        )

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def from_app_state(name: str, kind: type[T]) -> Callable[[Request], Coroutine[Any, Any, T]]:
    """A FastAPI dependency that hands a route what `create_app` put on `app.state.<name>`:

    Desk = Annotated[TicketDesk, Depends(from_app_state("desk", TicketDesk))]
    """

    async def dependency(request: Request) -> T:  # async: no thread hop per request
        value = getattr(request.app.state, name)
        if not isinstance(value, kind):
            raise TypeError(f"app.state.{name} is {type(value).__name__}, not {kind.__name__}")
        return value

    dependency.__name__ = f"app_state_{name}"
    return dependency
