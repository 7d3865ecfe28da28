"""The event consumer that runs beside the API: Redis Stream in, cases out."""

from __future__ import annotations

import logging
import threading

import redis
from sqlalchemy.exc import SQLAlchemyError

from api.cases import CaseStore
from events import BusConfig, EventConsumer

log = logging.getLogger(__name__)


class CaseConsumerThread(threading.Thread):
    """Polls the stream until stopped; Redis or database trouble is logged and retried with backoff."""

    def __init__(self, bus: BusConfig, store: CaseStore, consumer_name: str | None = None) -> None:
        super().__init__(name="case-consumer", daemon=True)
        self.consumer = EventConsumer(bus, store.apply, consumer_name=consumer_name)
        self.stop_event = threading.Event()
        self.last_error: str | None = None

    def run(self) -> None:
        backoff = 0.5
        while not self.stop_event.is_set():
            try:
                self.consumer.poll(block_ms=500)
                self.last_error = None
                backoff = 0.5
            except (redis.RedisError, SQLAlchemyError, OSError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("event consumer: %s; retrying in %.1fs", self.last_error, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        self.join(timeout)
