"""Events on a Redis Stream: workers publish, the case API reads with a consumer group.

Delivery is at least once: a consumer (bus.consumer) acknowledges a message only
after its handler returned (the case is committed), so a crash means re-delivery, and
the deterministic event id makes re-delivery harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis
from pydantic import BaseModel, ConfigDict, Field

from zones import Event

log = logging.getLogger(__name__)


class BusConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redis_url: str = "redis://127.0.0.1:6379/0"
    stream: str = "streetwatch:events"
    group: str = "case-api"
    max_len: int = Field(100_000, gt=0, description="Most unhandled entries the stream holds; past it, workers "
                         "keep events in their spool until the case API catches up.")
    spool_dir: str = Field("var/spool", description="Where each worker keeps the events Redis could not take.")
    spool_max_events: int = Field(200_000, gt=0, description="Bound on one worker's spool.")
    spool_keep_sent_s: float = Field(900.0, ge=0, description="How long a worker keeps sent events, to send them "
                                     "again if Redis loses its data before the API has stored them.")
    claim_idle_ms: int = Field(60_000, gt=0, description="Take over messages a dead consumer left pending.")

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.stream}:dead"


def redis_client(url: str, socket_timeout: float = 10) -> redis.Redis:
    """A client that never waits forever: a Redis that accepts connections but does not answer times out."""
    return redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=socket_timeout,
                                health_check_interval=30)


class BusFull(redis.RedisError):
    """The stream holds `max_len` entries the API has not caught up with: hold events back (the spool).

    `room` says how many would still fit, so a sender can send that many now.
    """

    def __init__(self, message: str, room: int) -> None:
        super().__init__(message)
        self.room = room


class EventPublisher:
    """Appends events to the stream, several per round trip.

    The stream is never trimmed here: trimming on XADD drops entries nobody has read. Instead a
    publisher refuses (BusFull) while the stream is at `max_len`, so a long database outage pushes
    back to the workers' spools, and the consumer trims only what its group has handled.
    """

    def __init__(self, config: BusConfig, client: redis.Redis | None = None) -> None:
        self.config = config
        self.client = client or redis_client(config.redis_url, socket_timeout=2)

    def publish(self, events: Iterable[Event]) -> list[str]:
        batch = list(events)
        if not batch:
            return []
        length = int(self.client.xlen(self.config.stream))
        if length + len(batch) > self.config.max_len:
            raise BusFull(f"stream {self.config.stream} holds {length} unhandled entries (max_len "
                          f"{self.config.max_len}): the case API is behind", room=max(0, self.config.max_len - length))
        pipe = self.client.pipeline(transaction=False)
        for event in batch:
            pipe.xadd(self.config.stream, {"event": event.model_dump_json()})
        return [i.decode() if isinstance(i, bytes) else i for i in pipe.execute()]
