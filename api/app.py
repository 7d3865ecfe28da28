"""The FastAPI application: routers per resource over small services; the consumer and background loops
run in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import guards, metrics
from api.auth import PUBLIC_ROUTES, LoginLimiter, TokenService, gate
from api.background import Background
from api.config import ApiConfig
from api.consumer import CaseConsumerThread
from api.db import make_engine, migrate, session_factory
from api.orm import utcnow
from api.routers import ROUTERS
from api.routers.web import mount_web
from api.services.bus_watch import BusWatch
from api.services.cases import CaseStore
from api.services.escalation import escalate_overdue
from api.services.labels import LabelStore
from api.services.live import LiveHub
from api.services.queries import CaseFinder
from api.services.relay import ChangeRelay, live_stream
from api.services.routing import Router
from api.services.users import UserStore, shared_secret
from api.services.verification import Verifier
from api.services.webhooks import WebhookSender
from api.services.whatif import WhatIfJobs
from api.services.workflow import Workflow
from api.services.zone_store import ZoneStore
from api.services.zone_sync import Calibrations, ZoneSync
from bus import BusConfig, SnapshotStore, redis_client

if TYPE_CHECKING:
    from detector import DetectorConfig
    from worker.config import CameraConfig
    from worker.zone_readings import SceneReadingConfig


def create_app(
    config: ApiConfig,
    bus: BusConfig,
    media_dir: Path | str,
    detector: DetectorConfig | None = None,
    cameras: Sequence[CameraConfig] = (),
    clock: Callable[[], datetime] = utcnow,
    scene: SceneReadingConfig | None = None,
) -> FastAPI:
    """`detector` is only read, never run: `/api/classes` reports what its models can see."""
    engine = make_engine(config.database_url, config.statement_timeout_s)
    migrate(engine)
    sessions = session_factory(engine)
    client = redis_client(bus.redis_url)
    router = Router(config.routing)
    store = CaseStore(engine, sessions, router, clock)
    verifier = Verifier(sessions, client, bus, config.verification, router, clock)
    background = Background()
    bus_watch = BusWatch(sessions, client, bus, clock)
    whatif = WhatIfJobs(sessions, client, bus, Path(media_dir).resolve(), clock)
    relay = ChangeRelay(sessions, client, live_stream(bus.stream), config.webhooks, clock)
    sender = WebhookSender(sessions, config.webhooks, clock)
    labels = LabelStore(sessions, client, bus, Path(media_dir).resolve(), clock)

    def relay_step() -> bool:
        fanned = relay.fan_out_webhooks()
        published = relay.publish_live()
        if fanned:
            background.wake("webhooks")
        return bool(fanned or published)

    background.add("relay", relay_step, 0.5)
    background.add("webhooks", lambda: bool(sender.run_once()), 1.0)
    background.add("escalation", lambda: bool(escalate_overdue(sessions, clock=clock)), config.escalate_every_s)
    background.add("verification-timeouts", lambda: bool(verifier.expire()), 10.0)
    background.add("whatif-timeouts", lambda: bool(whatif.expire()), 60.0)
    background.add("labels", lambda: bool(labels.resend()), 30.0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        consumer = CaseConsumerThread(bus, store, verifier, on_change=lambda: background.wake("relay"),
                                      bus_watch=bus_watch, whatif=whatif) if config.consume else None
        app.state.consumer = consumer
        hub = LiveHub(bus.redis_url, live_stream(bus.stream))
        app.state.live = hub
        await hub.start()
        background.start()
        if consumer is not None:
            consumer.start()
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop()
            background.stop()
            sender.close()
            await hub.stop()
            client.close()
            engine.dispose()

    app = FastAPI(
        title="StreetWatch 街道巡查 案件 API / Case API",
        description="AI 视频事件转为案件 — cases raised from street-camera events. Log in at POST /api/auth/token.",
        version="0.2.0",
        lifespan=lifespan,
        dependencies=[Depends(gate)],  # deny by default: a route needs a login unless api.auth lists it public
    )
    state = app.state
    state.engine, state.sessions, state.redis, state.bus = engine, sessions, client, bus
    state.api_config, state.detector_config, state.cameras = config, detector, list(cameras)
    state.scene_config = scene
    state.case_store, state.case_finder = store, CaseFinder(sessions)
    state.labels = labels
    state.workflow = Workflow(sessions, router, verifier, clock, labels)
    state.verifier, state.relay, state.webhook_sender, state.background = verifier, relay, sender, background
    state.snapshots = SnapshotStore(media_dir)
    state.bus_watch = bus_watch
    state.whatif = whatif
    state.users = UserStore(sessions)
    state.zone_store = ZoneStore(sessions, clock)
    state.calibrations = Calibrations(sessions, clock)
    state.zone_sync = ZoneSync(state.zone_store, state.calibrations, client, bus, [c.id for c in cameras])
    for camera in cameras:  # the configuration seeds a camera's zones once; then the store wins
        state.zone_store.seed(camera.id, camera.zones)
    background.add("zones", state.zone_sync.resync, 30.0)  # sets Redis lost (a restart without data) come back
    state.tokens = TokenService(shared_secret(sessions), timedelta(hours=config.auth.token_ttl_h))
    state.login_limiter = LoginLimiter(bus.redis_url, config.auth.login_attempts_per_minute, f"{bus.stream}:login",
                                       config.auth.login_attempts_per_address_per_minute)
    state.consumer = None
    for router_of_resource in ROUTERS:
        app.include_router(router_of_resource)
    state.metrics = metrics.make_registry(state)
    app.include_router(metrics.router)
    mount_web(app, config.web_dir, config.map.tile_url)
    _check_public_routes(app)
    guards.install(app, config.max_body_bytes, config.request_timeout_s,
                   {"/whatif/upload": config.max_upload_mb * 1024 * 1024})
    # Scripts and JSON shrink to a third; the live feed (text/event-stream) is left as it is.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    if config.auth.trusted_proxies:  # outermost: every layer and route sees the client, not the proxy
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=[str(n) for n in config.auth.trusted_proxies])
    return app


def _check_public_routes(app: FastAPI) -> None:
    """A public route that no longer exists is a stale exception that a later route could fall into."""
    served = set()
    for route in app.routes:  # included routers appear as one entry holding their routes' effective contexts
        contexts = getattr(route, "effective_route_contexts", None)
        for effective in (contexts() if callable(contexts) else [route]):
            served |= {(method, getattr(effective, "path", "")) for method in getattr(effective, "methods", None) or ()}
    missing = PUBLIC_ROUTES - served
    if missing:
        raise RuntimeError(f"api.auth.PUBLIC_ROUTES lists routes the app does not serve: {sorted(missing)}")
