"""The worker's event sink: never blocks the inference thread, never loses an event without counting it.

The inference thread only hands events over (`__call__`). A publisher thread sends them to Redis;
whatever Redis cannot take (down, not answering, or the stream full because the API is behind)
goes to the on-disk spool, and while the spool holds anything, new events queue behind it, so
Redis receives them in the order they happened (only an overflowing hand-over queue, ten thousand
events behind, may put a few out of order; the API folds events in any order). The spool is
drained every `retry_s`. `close` sends what it can within its time and spools the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path

import redis

from events.bus import BusConfig, EventPublisher
from events.spool import DiskSpool
from zones import Event

log = logging.getLogger(__name__)


class SpoolingPublisher:
    def __init__(self, publisher: EventPublisher, spool: DiskSpool, retry_s: float = 1.0,
                 max_queued: int = 10_000, batch: int = 500) -> None:
        self.publisher = publisher
        self.spool = spool
        self.retry_s = retry_s
        self.max_queued = max_queued
        self.batch = batch
        self.sent = 0
        self.spooled = 0
        self.last_error: str | None = None
        self._queue: deque[Event] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._busy = False  # the publisher thread holds events outside the queue
        self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def __call__(self, events: list[Event]) -> None:
        """Hand events over; returns at once (a full hand-over queue goes straight to disk)."""
        if not events:
            return
        with self._cond:
            if self._closing:
                self._to_spool(events)
                return
            if len(self._queue) + len(events) > self.max_queued:
                self._to_spool([*self._queue, *events])  # keep the order: what waited goes first
                self._queue.clear()
            else:
                self._queue.extend(events)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._closing:
                    self._cond.wait(self.retry_s)
                if self._closing:
                    return
                taken = list(self._queue)
                self._queue.clear()
                self._busy = True
            try:
                self._deliver(taken)
            except Exception:  # the spool's disk: log and keep going, the events stay where they were
                log.exception("event publisher")
                with self._cond:
                    self._queue.extendleft(reversed(taken))
            finally:
                with self._cond:
                    self._busy = False

    def _deliver(self, events: list[Event]) -> bool:
        """Send the spool's backlog, then `events`; what cannot be sent goes (back) to the spool in order."""
        if events and len(self.spool):
            self._to_spool(events)
            events = []
        if not self._drain():
            if events:
                self._to_spool(events)
            return False
        if not events:
            return True
        try:
            self.publisher.publish(events)
        except redis.RedisError as exc:
            self._failed(exc)
            self._to_spool(events)
            return False
        self.sent += len(events)
        return True

    def _drain(self) -> bool:
        while len(self.spool):
            rows = self.spool.peek(self.batch)
            try:
                self.publisher.publish([event for _id, event in rows])
            except redis.RedisError as exc:
                self._failed(exc)
                return False
            self.spool.remove(rows[-1][0])
            self.sent += len(rows)
            if self.last_error is not None:
                log.info("Redis takes events again; spool draining (%d left)", len(self.spool))
                self.last_error = None
        self.last_error = None
        return True

    def _failed(self, exc: redis.RedisError) -> None:
        if self.last_error is None:
            log.warning("cannot publish events (%s: %s); keeping them in the spool %s", type(exc).__name__, exc,
                        self.spool.path)
        self.last_error = type(exc).__name__

    def _to_spool(self, events: list[Event]) -> None:
        self.spool.append(events)
        self.spooled += len(events)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything handed over has been sent; False if some is still queued or spooled."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._cond:
                if not self._queue and not self._busy and not len(self.spool):
                    return True
                self._cond.notify()  # the publisher thread drains at once rather than at its next retry
            time.sleep(0.05)
        return False

    def close(self, timeout_s: float = 10.0) -> int:
        """Stop: send what can be sent within `timeout_s`, spool the rest; returns how many wait in the spool."""
        self.flush(timeout_s)
        with self._cond:
            self._closing = True
            rest = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout_s)
        if rest:
            self._to_spool(rest)
        waiting = len(self.spool)
        if waiting:
            log.warning("%d event(s) wait in %s; they are sent when a worker with this spool runs again",
                        waiting, self.spool.path)
        self.spool.close()
        return waiting


def spooling_sink(bus: BusConfig, name: str) -> SpoolingPublisher:
    """A worker's sink: publishes to the bus, spooling to `bus.spool_dir/<name>.sqlite` what Redis cannot take."""
    spool = DiskSpool(Path(bus.spool_dir) / f"{name}.sqlite", bus.spool_max_events)
    return SpoolingPublisher(EventPublisher(bus), spool)
