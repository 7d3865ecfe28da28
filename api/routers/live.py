"""/api/live: every case change as Server-Sent Events, resumable with Last-Event-ID."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from sse_starlette import EventSourceResponse

from api.auth import Reader, still_logged_in
from api.deps import LiveHubDep
from api.errors import PROTECTED
from api.services.live import STREAM_ID

router = APIRouter(prefix="/api", tags=["live 实时告警"], responses=PROTECTED)


@router.get(
    "/live",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless event stream"}},
)
async def live(
    request: Request,
    hub: LiveHubDep,
    _reader: Reader,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> EventSourceResponse:
    """实时告警 / live changes. Each message: `id:` (resume with Last-Event-ID), `event: change`, and a JSON
    `data:` with `kind` (created, merged, transition, escalated, verification, episode_ended), `change_id`
    and the case. The first message of a fresh connection is `event: hello` with the current position; a
    `reset` means the feed no longer reaches back to Last-Event-ID and the client should reload."""
    if last_event_id is not None and not STREAM_ID.match(last_event_id.strip()):
        raise HTTPException(400, "Last-Event-ID 格式错误 / Last-Event-ID must be an id this feed sent (123-0)")
    stream = _while_logged_in(request, hub.stream_for(last_event_id.strip() if last_event_id else None))
    return EventSourceResponse(stream, ping=15, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _while_logged_in(request: Request, messages: AsyncGenerator[dict[str, str], None]
                           ) -> AsyncIterator[dict[str, str]]:
    """An open feed ends with its login (disable, role or password change, logout): the token is checked again
    before each change is sent, off the event loop."""
    try:
        async for message in messages:
            if message.get("event") == "change" and not await asyncio.to_thread(still_logged_in, request):
                return
            yield message
    finally:
        await messages.aclose()
