"""The live feed for browsers: one Redis reader per API process, fanned out to every open connection.

The feed lives in a Redis Stream, so every replica serves the same changes with the same ids, and a
browser that reconnects with `Last-Event-ID` gets what it missed from the stream itself. A
connection too slow to keep up is closed; its browser reconnects and catches up the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

import redis
import redis.asyncio as aioredis

log = logging.getLogger(__name__)

STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_OVERFLOW = ("", "")


def _key(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class LiveHub:
    def __init__(self, redis_url: str, stream: str, queue_size: int = 1000) -> None:
        self.client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=10)
        self.stream = stream
        self.queue_size = queue_size
        self._subscribers: set[asyncio.Queue[tuple[str, str]]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.last_error: str | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-hub")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            # The Redis client can swallow a cancellation that lands in its read (a CI run hung here at shutdown):
            # the flag ends the loop at its next turn (a read blocks at most a second), and the wait is bounded.
            await asyncio.wait({self._task}, timeout=5)
            if not self._task.done():
                log.warning("live feed: reader still running at shutdown")
        await self.client.aclose()

    @property
    def connections(self) -> int:
        return len(self._subscribers)

    async def latest_id(self) -> str:
        try:
            info = await self.client.xinfo_stream(self.stream)
        except redis.ResponseError:  # no stream yet
            return "0-0"
        return _text(info["last-generated-id"])

    async def since(self, last_id: str, limit: int = 5000) -> list[tuple[str, str]] | None:
        """Every change after `last_id`; None when the stream was trimmed past it (the browser must reload)."""
        try:
            info = await self.client.xinfo_stream(self.stream)
        except redis.ResponseError:  # no stream yet: nothing was missed
            return []
        if _key(_text(info.get("max-deleted-entry-id", b"0-0"))) > _key(last_id):
            return None
        entries = await self.client.xrange(self.stream, min=f"({last_id}", count=limit)
        return [(_text(i), _text(fields.get(b"change", b"{}"))) for i, fields in entries]

    def subscribe(self) -> asyncio.Queue[tuple[str, str]]:
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(self.queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, str]]) -> None:
        self._subscribers.discard(queue)

    async def _run(self) -> None:
        last = None
        backoff = 0.5
        while not self._stopping:
            try:
                if last is None:
                    last = await self.latest_id()
                reply = await self.client.xread({self.stream: last}, count=500, block=1000)
                backoff = 0.5
                self.last_error = None
            except (redis.RedisError, OSError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("live feed: %s; retrying in %.1fs", self.last_error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = _text(entry_id)
                    self._broadcast((last, _text(fields.get(b"change", b"{}"))))

    def _broadcast(self, item: tuple[str, str]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:  # too slow: end it; the browser reconnects and catches up from the stream
                self._subscribers.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.get_nowait()
                    queue.put_nowait(_OVERFLOW)

    async def stream_for(self, last_event_id: str | None) -> AsyncIterator[dict[str, str]]:
        """SSE messages for one connection: what it missed, then every new change, in order, once."""
        queue = self.subscribe()
        try:
            if last_event_id:
                missed = await self.since(last_event_id)
                if missed is None:
                    yield {"event": "reset", "data": '{"reason": "feed trimmed past Last-Event-ID: reload"}'}
                    sent = await self.latest_id()
                else:
                    sent = last_event_id
                    for entry_id, data in missed:
                        yield {"id": entry_id, "event": "change", "data": data}
                        sent = entry_id
            else:
                sent = await self.latest_id()
                yield {"id": sent, "event": "hello", "data": "{}"}
            while True:
                entry_id, data = await queue.get()
                if (entry_id, data) == _OVERFLOW:
                    return
                if _key(entry_id) <= _key(sent):
                    continue
                yield {"id": entry_id, "event": "change", "data": data}
                sent = entry_id
        finally:
            self.unsubscribe(queue)
