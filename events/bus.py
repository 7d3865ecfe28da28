"""Events on a Redis Stream: workers publish, the case API reads with a consumer group.

Delivery is at least once: a consumer acknowledges a message only after its
handler returned (the case is committed), so a crash means re-delivery, and the
deterministic event id makes re-delivery harmless.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Iterable

import redis
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zones import Event

log = logging.getLogger(__name__)


class BusConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redis_url: str = "redis://127.0.0.1:6379/0"
    stream: str = "streetwatch:events"
    group: str = "case-api"
    max_len: int = Field(100_000, gt=0, description="Approximate cap on the stream's length.")
    claim_idle_ms: int = Field(60_000, gt=0, description="Take over messages a dead consumer left pending.")

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.stream}:dead"


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10, health_check_interval=30)


class EventPublisher:
    """Appends events to the stream, several per round trip."""

    def __init__(self, config: BusConfig, client: redis.Redis | None = None) -> None:
        self.config = config
        self.client = client or redis_client(config.redis_url)

    def publish(self, events: Iterable[Event]) -> list[str]:
        pipe = self.client.pipeline(transaction=False)
        count = 0
        for event in events:
            pipe.xadd(
                self.config.stream,
                {"event": event.model_dump_json()},
                maxlen=self.config.max_len,
                approximate=True,
            )
            count += 1
        if not count:
            return []
        return [i.decode() if isinstance(i, bytes) else i for i in pipe.execute()]


Handler = Callable[[Event], None]


class EventConsumer:
    """Reads the stream in a consumer group and hands each event to `handler`.

    A message that is not a valid event goes to the dead-letter stream with the
    reason, and is acknowledged: one bad message never blocks the ones behind it.
    """

    def __init__(
        self,
        config: BusConfig,
        handler: Handler,
        consumer_name: str | None = None,
        client: redis.Redis | None = None,
    ) -> None:
        self.config = config
        self.handler = handler
        self.name = consumer_name or f"{socket.gethostname()}-{os.getpid()}"
        self.client = client or redis_client(config.redis_url)
        self.handled = 0
        self.dead_lettered = 0
        self._group_ready = False

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.config.stream, self.config.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def poll(self, block_ms: int = 1000, count: int = 100) -> int:
        """Handle what is waiting: own pending messages first, then stale ones of dead consumers, then new."""
        if not self._group_ready:
            self.ensure_group()
        handled = self._read("0", count, block_ms=None)
        handled += self._claim_stale(count)
        if handled:
            return handled
        return self._read(">", count, block_ms=block_ms)

    def lag(self) -> int | None:
        """Messages the group has not yet read (None when Redis cannot tell)."""
        for group in self.client.xinfo_groups(self.config.stream):
            name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
            if name == self.config.group:
                return group.get("lag")
        return None

    def _read(self, start: str, count: int, block_ms: int | None) -> int:
        reply = self.client.xreadgroup(
            self.config.group, self.name, {self.config.stream: start}, count=count, block=block_ms
        )
        handled = 0
        for _stream, messages in reply or []:
            for message_id, fields in messages:
                if fields is None:  # deleted by XTRIM while pending
                    self.client.xack(self.config.stream, self.config.group, message_id)
                    continue
                self._handle(message_id, fields)
                handled += 1
        return handled

    def _claim_stale(self, count: int) -> int:
        _next, messages, *_ = self.client.xautoclaim(
            self.config.stream, self.config.group, self.name, self.config.claim_idle_ms, "0-0", count=count
        )
        for message_id, fields in messages:
            self._handle(message_id, fields)
        return len(messages)

    def _handle(self, message_id: bytes | str, fields: dict[bytes, bytes]) -> None:
        raw = fields.get(b"event") or fields.get("event")  # type: ignore[call-overload]
        try:
            event = Event.model_validate_json(raw or b"")
        except ValidationError as exc:
            self._dead_letter(message_id, raw, f"not a valid event: {exc.error_count()} error(s): {exc}")
            return
        self.handler(event)  # raises on a database failure: the message stays pending for a retry
        self.client.xack(self.config.stream, self.config.group, message_id)
        self.handled += 1

    def _dead_letter(self, message_id: bytes | str, raw: bytes | None, reason: str) -> None:
        log.error("event %s moved to %s: %s", message_id, self.config.dead_letter_stream, reason[:500])
        pipe = self.client.pipeline()
        pipe.xadd(
            self.config.dead_letter_stream,
            {"message_id": message_id, "event": raw or b"", "reason": reason[:2000]},
            maxlen=self.config.max_len,
            approximate=True,
        )
        pipe.xack(self.config.stream, self.config.group, message_id)
        pipe.execute()
        self.dead_lettered += 1


class BufferedPublisher:
    """A worker's sink: events that Redis could not take wait in a bounded buffer and go first next time.

    A short Redis outage loses nothing; a long one keeps the newest `max_buffered`
    events and counts what it had to drop.
    """

    def __init__(self, publisher: EventPublisher, max_buffered: int = 10_000) -> None:
        self.publisher = publisher
        self._pending: deque[Event] = deque(maxlen=max_buffered)
        self.dropped = 0
        self.last_error: str | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def __call__(self, events: list[Event]) -> None:
        overflow = len(self._pending) + len(events) - (self._pending.maxlen or 0)
        if overflow > 0:
            self.dropped += overflow
            log.error("event buffer full: %d oldest unsent events dropped", overflow)
        self._pending.extend(events)
        self.flush()

    def flush(self) -> bool:
        if not self._pending:
            return True
        try:
            self.publisher.publish(list(self._pending))
        except redis.RedisError as exc:
            if self.last_error is None:
                log.warning("cannot publish to Redis (%s); %d event(s) kept for retry", exc, len(self._pending))
            self.last_error = str(exc)
            return False
        self._pending.clear()
        self.last_error = None
        return True
