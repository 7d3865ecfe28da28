"""The worker's event sink: never blocks the inference thread, never loses an event without counting it.

The inference thread only hands events over (`__call__`, an in-memory append). A publisher thread
writes them to the on-disk spool, then sends the spool's unsent events to Redis in order. Whatever
Redis cannot take (down, not answering, or the stream full because the API is behind) simply stays
unsent and goes out on the next attempt, every `retry_s`. Sent events stay in the spool a while, so
that `resend` can send them again when the API finds that Redis lost its data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path

import redis

from bus.spool import DiskSpool
from bus.streams import BusConfig, BusFull, EventPublisher
from zones import Event

log = logging.getLogger(__name__)


class SpoolingPublisher:
    def __init__(self, publisher: EventPublisher, spool: DiskSpool, retry_s: float = 1.0,
                 max_queued: int = 100_000, batch: int = 500) -> None:
        self.publisher = publisher
        self.spool = spool
        self.retry_s = retry_s
        self.max_queued = max_queued
        self.batch = batch
        self.sent = 0
        self.handed_over = 0
        self.dropped_in_memory = 0
        self.last_error: str | None = None
        self._queue: deque[Event] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._busy = False  # the publisher thread holds events outside the queue, or is sending
        self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self._thread.start()

    def __call__(self, events: list[Event]) -> None:
        """Hand events over; returns at once."""
        if not events:
            return
        with self._cond:
            room = self.max_queued - len(self._queue)
            if room < len(events):  # the disk has been failing for a long while: say so, loudly
                self.dropped_in_memory += len(events) - max(room, 0)
                log.error("event hand-over queue full (%d): %d event(s) dropped", self.max_queued,
                          len(events) - max(room, 0))
                events = events[:max(room, 0)]
            self._queue.extend(events)
            self.handed_over += len(events)
            self._cond.notify()

    @property
    def waiting(self) -> int:
        """Events not yet in Redis: handed over but not spooled, or spooled but unsent."""
        return len(self._queue) + len(self.spool)

    def resend(self, since: float | None = None) -> int:
        """Send again what Redis took since `since` (it lost them); returns how many."""
        count = self.spool.resend(since)
        log.warning("resending %d event(s) that Redis has lost", count)
        with self._cond:
            self._cond.notify()
        return count

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._closing:
                    self._cond.wait(self.retry_s)
                if self._closing and not self._queue:
                    return
                taken = list(self._queue)
                self._queue.clear()
                self._busy = True
            try:
                if taken:
                    self.spool.append(taken)
                self._drain()
            except Exception:  # the spool's disk: log and keep going, the events stay where they were
                log.exception("event publisher")
                with self._cond:
                    self._queue.extendleft(reversed(taken))
                time.sleep(self.retry_s)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _drain(self) -> None:
        limit = self.batch
        while len(self.spool):
            rows = self.spool.peek(limit)
            try:
                self.publisher.publish([event for _id, event in rows])
            except BusFull as exc:
                if exc.room > 0:  # the stream has room for fewer: send those now
                    limit = exc.room
                    continue
                self._failed(exc)
                return
            except redis.RedisError as exc:
                self._failed(exc)
                return
            self.spool.mark_sent(rows[-1][0])
            self.sent += len(rows)
            if self.last_error is not None:
                log.info("Redis takes events again; %d left to send", len(self.spool))
                self.last_error = None

    def _failed(self, exc: redis.RedisError) -> None:
        if self.last_error is None:
            log.warning("cannot publish events (%s: %s); %d wait in %s", type(exc).__name__, exc, len(self.spool),
                        self.spool.path)
        self.last_error = type(exc).__name__

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything handed over is in Redis; False if some still waits."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._queue or self._busy or len(self.spool):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.notify()
                self._cond.wait(min(remaining, 0.05))
        return True

    def close(self, timeout_s: float = 10.0) -> int:
        """Stop: send what can be sent within `timeout_s`, keep the rest on disk; returns how many wait there."""
        self.flush(timeout_s)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(max(timeout_s, 1.0))
        rest = list(self._queue)
        if rest:  # the thread could not take them in time: they still reach the disk
            self.spool.append(rest)
        waiting = len(self.spool)
        if waiting:
            log.warning("%d event(s) wait in %s; they are sent when a worker with this spool runs again",
                        waiting, self.spool.path)
        self.spool.close()
        return waiting


def spooling_sink(bus: BusConfig, name: str) -> SpoolingPublisher:
    """A worker's sink: publishes to the bus through `bus.spool_dir/<name>.sqlite`."""
    spool = DiskSpool(Path(bus.spool_dir) / f"{name}.sqlite", bus.spool_max_events, bus.spool_keep_sent_s)
    return SpoolingPublisher(EventPublisher(bus), spool)
