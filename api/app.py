"""The FastAPI application: cases, health, evidence; the event consumer runs in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from api.cases import CaseStore
from api.config import ApiConfig
from api.consumer import CaseConsumerThread
from api.db import make_engine, migrate, session_factory
from api.routers import cameras, cases, classes, health, media
from events import BusConfig, EvidenceStore, redis_client

if TYPE_CHECKING:
    from detector import DetectorConfig


def create_app(
    config: ApiConfig, bus: BusConfig, media_dir: Path | str, detector: DetectorConfig | None = None
) -> FastAPI:
    """`detector` is only read, never run: `/api/classes` reports what its models can see."""
    engine = make_engine(config.database_url)
    migrate(engine)
    store = CaseStore(engine, session_factory(engine))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        consumer = CaseConsumerThread(bus, store) if config.consume else None
        app.state.consumer = consumer
        if consumer is not None:
            consumer.start()
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop()
            app.state.redis.close()
            engine.dispose()

    app = FastAPI(
        title="StreetWatch 街道巡查 案件 API / Case API",
        description="AI 视频事件转为案件 — cases raised from street-camera events.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.case_store = store
    app.state.evidence = EvidenceStore(media_dir)
    app.state.redis = redis_client(bus.redis_url)
    app.state.consumer = None
    app.state.detector_config = detector
    app.state.bus = bus
    app.include_router(cases.router)
    app.include_router(cameras.router)
    app.include_router(classes.router)
    app.include_router(health.router)
    app.include_router(media.router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
