"""/api/health: is the database reachable, is Redis, is the consumer keeping up."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

router = APIRouter(prefix="/api", tags=["health 运行状态"])


@router.get("/health")
def health(request: Request, response: Response) -> dict[str, object]:
    state = request.app.state
    report: dict[str, object] = {}
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        report["database"] = "ok"
    except Exception as exc:  # report, never raise: this is what operators look at when things break
        report["database"] = f"error: {type(exc).__name__}: {exc}"
    try:
        state.redis.ping()
        report["redis"] = "ok"
    except Exception as exc:
        report["redis"] = f"error: {type(exc).__name__}: {exc}"
    consumer = state.consumer
    if consumer is not None:
        report["consumer"] = {
            "running": consumer.is_alive(),
            "handled": consumer.consumer.handled,
            "dead_lettered": consumer.consumer.dead_lettered,
            "last_error": consumer.last_error,
        }
    healthy = report["database"] == "ok" and report["redis"] == "ok"
    report["status"] = "ok" if healthy else "degraded"
    if report["database"] != "ok":
        response.status_code = 503
    return report
