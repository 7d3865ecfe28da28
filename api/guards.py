"""What stands between the network and the routes: size limits, refused bytes, time limits, and
database outages answered with 503, never 500 and never a hang.

A database that is down raises quickly (connect and pool timeouts: api/db.py). One that is frozen
(accepts connections, never answers) would hold a request forever, since no server-side timeout
can fire in a stopped server: `RequestTimeout` answers 503 after `timeout_s` while the stuck
thread waits on. Routes that need no database (liveness, the live feed) keep answering.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streams.redact import redact

log = logging.getLogger(__name__)

UNAVAILABLE = "数据库暂不可用，请稍后重试 / the database is not answering; try again shortly"
STREAMING_PATHS = ("/api/live",)
UPLOAD_SUFFIXES = ("/whatif/upload",)  # a large upload may take longer than an answer should


def _json(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class InputGuard:
    """Refuse, before any route runs: bodies over `max_body_bytes` (413; routes ending in a key of `larger` have
    their own bound, e.g. uploads), NUL bytes in the path or query (400)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, larger: dict[str, float] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope.get("path", "").encode()
        if b"\x00" in raw or b"%00" in raw.lower() or b"%00" in scope.get("query_string", b"").lower():
            await _json(400, "请求中含有非法字符 NUL / a NUL byte is not allowed in a URL")(scope, receive, send)
            return
        limit = next((int(bound) for suffix, bound in self.larger.items() if scope.get("path", "").endswith(suffix)),
                     self.max_body_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _json(413, f"请求体过大 / request body over {limit} bytes")(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _json(413, f"请求体过大 / request body over {limit} bytes")(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class RequestTimeout:
    """Answer 503 when a request has not started its response within `timeout_s` (a frozen database)."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(STREAMING_PATHS) or path.endswith(UPLOAD_SUFFIXES):
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, watched_send), self.timeout_s)
        except TimeoutError:
            if started:
                raise
            log.warning("%s %s: no answer within %.0f s (database frozen?)", scope.get("method"),
                        scope.get("path"), self.timeout_s)
            await _json(503, UNAVAILABLE, {"Retry-After": "5"})(scope, receive, send)


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, redact(str(exc))[:300])
    return _json(503, UNAVAILABLE, {"Retry-After": "5"})


def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 with an Allow header listing every method the path has, across all the routers that serve it."""
    allowed = sorted({m for path_regex, methods in _route_table(request.app) if path_regex.match(request.url.path)
                      for m in methods} - {"HEAD"})
    if "GET" in allowed:
        allowed.append("HEAD")
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(allowed)})


def _route_table(app: Any) -> list[tuple[Any, set[str]]]:
    table: list[tuple[Any, set[str]]] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for effective in (contexts() if callable(contexts) else [route]):
            regex, methods = getattr(effective, "path_regex", None), getattr(effective, "methods", None)
            if regex is not None and methods:
                table.append((regex, set(methods)))
    return table


def install(app: FastAPI, max_body_bytes: int, timeout_s: float, larger: dict[str, float] | None = None) -> None:
    """Handlers for outages of the database, then the guards around everything (outermost last)."""
    app.add_exception_handler(405, _method_not_allowed)
    outages: tuple[Any, ...] = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
    for kind in outages:
        app.add_exception_handler(kind, _database_unavailable)

    def _database_refused(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s: the database refused a value: %s", request.method, request.url.path,
                  redact(str(exc))[:300])
        return JSONResponse({"detail": [{"loc": ["body"], "msg": "数据库拒绝了该值 / the database refused a value "
                                         "in this request", "type": "value_error"}]}, status_code=422)

    app.add_exception_handler(DBAPIError, _database_refused)
    app.add_middleware(RequestTimeout, timeout_s=timeout_s)
    app.add_middleware(InputGuard, max_body_bytes=max_body_bytes, larger=larger)
