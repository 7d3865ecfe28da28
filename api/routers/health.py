"""/api/health: is the service alive, and is it ready (database, Redis, the event consumer keeping up).

Anyone may ask; the answer says what is wrong in words an operator can act on, never a host name,
SQL or an exception text: those go to the log.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

router = APIRouter(prefix="/api", tags=["health 运行状态"])
log = logging.getLogger(__name__)


@router.get("/health")
def health(request: Request, response: Response) -> dict[str, object]:
    state = request.app.state
    report: dict[str, object] = {}
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        report["database"] = "ok"
    except Exception as exc:  # report, never raise: this is what operators look at when things break
        log.warning("health: database: %s: %s", type(exc).__name__, exc)
        report["database"] = "unreachable"
    try:
        state.redis.ping()
        report["redis"] = "ok"
    except Exception as exc:
        log.warning("health: redis: %s: %s", type(exc).__name__, exc)
        report["redis"] = "unreachable"
    consumer = state.consumer
    if consumer is not None:
        report["consumer"] = {
            "running": consumer.is_alive(),
            "handled": consumer.consumer.handled,
            "dead_lettered": consumer.consumer.dead_lettered,
            "failing": consumer.last_error is not None,
        }
    healthy = report["database"] == "ok" and report["redis"] == "ok"
    report["status"] = "ok" if healthy else "degraded"
    if report["database"] != "ok":
        response.status_code = 503
    return report
