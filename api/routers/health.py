"""/api/health: is the service alive, is it ready to serve, and is everything keeping up.

- `/api/health/live`: the process answers (needs nothing else); for restarts.
- `/api/health/ready`: the database and Redis answer; for load balancers.
- `/api/health`: the whole picture, `degraded` (503) with reasons when a bound is passed (consumer lag,
  events waiting to be stored, the oldest one's age, changes not on the live feed).

Anyone gets the status and the reasons in words; figures and error texts go to admins and the log,
never a host name, SQL or an exception's text to an anonymous caller.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.auth import optional_principal
from api.deps import BusDep, BusWatchDep, ConfigDep, ConsumerDep, RedisDep, SessionsDep
from api.services.health import database_figures, problems, stream_figures
from api.services.lifecycle import Role
from bus.control import results_stream
from streams.redact import redact

router = APIRouter(prefix="/api/health", tags=["health 运行状态"])
log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 3.0


async def _check(what: str, call: Any) -> tuple[Any, str | None]:
    """Run a blocking check with a time limit: (result, None) or (None, why, logged)."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(call), CHECK_TIMEOUT_S), None
    except TimeoutError:
        reason = f"no answer within {CHECK_TIMEOUT_S:.0f} s"
    except Exception as exc:  # report, never raise: this is what operators look at when things break
        reason = f"{type(exc).__name__}: {redact(str(exc))[:300]}"
    log.warning("health: %s: %s", what, reason)
    return None, reason


@router.get("/live")
async def live() -> dict[str, str]:
    """存活 / the process answers."""
    return {"status": "alive"}


@router.get("/ready", responses={503: {"description": "The database or Redis does not answer"}})
async def ready(sessions: SessionsDep, client: RedisDep) -> JSONResponse:
    """就绪 / the database and Redis answer."""
    _db, db_error = await _check("database", lambda: database_figures(sessions))
    _ping, redis_error = await _check("redis", client.ping)
    report = {"status": "ready" if not (db_error or redis_error) else "not_ready",
              "database": "ok" if db_error is None else "unreachable",
              "redis": "ok" if redis_error is None else "unreachable"}
    return JSONResponse(report, status_code=200 if report["status"] == "ready" else 503)


@router.get("", responses={503: {"description": "Degraded: see `problems`"}})
async def health(request: Request, sessions: SessionsDep, client: RedisDep, bus_config: BusDep, config: ConfigDep,
                 consumer: ConsumerDep, bus_watch: BusWatchDep) -> JSONResponse:
    """运行状态 / everything: database, Redis, the consumer, the event stream, the live feed's relay."""
    database, db_error = await _check("database", lambda: database_figures(sessions))
    bus, bus_error = await _check("redis", lambda: stream_figures(client, bus_config.stream, bus_config.group))
    results, _ = await _check("redis", lambda: stream_figures(client, results_stream(bus_config), bus_config.group))
    report: dict[str, Any] = {
        "database": "ok" if db_error is None else "unreachable",
        "redis": "ok" if bus_error is None else "unreachable",
        "consumer": None if consumer is None else ("failing" if consumer.last_error or not consumer.is_alive()
                                                   else "ok"),
    }
    reasons = [] if bus is None else problems(bus, database, config.health)
    if db_error:
        reasons.insert(0, "数据库无响应 / the database does not answer")
    if bus_error:
        reasons.insert(0, "Redis 无响应 / Redis does not answer")
    if report["consumer"] == "failing":
        reasons.append("事件消费异常 / the event consumer is failing (see the log)")
    report["status"] = "degraded" if reasons else "ok"
    report["problems"] = reasons
    # The login is checked in the database: off the event loop and with a time limit, like the checks above.
    principal, _ = await _check("login", lambda: optional_principal(request))
    if principal is not None and principal.role is Role.ADMIN:
        incidents, _ = await _check("database", bus_watch.incidents)
        report["figures"] = {"events": bus, "verification_results": results, "database": database,
                             "redis_data_losses": incidents,
                             "consumer": None if consumer is None else {
                                 "handled": consumer.consumer.handled, "dead_lettered": consumer.consumer.dead_lettered,
                                 "vanished": consumer.consumer.vanished,
                                 "groups_recreated": consumer.consumer.groups_recreated}}
        report["errors"] = {"database": db_error, "redis": bus_error,
                            "consumer": consumer.last_error if consumer else None}
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)
