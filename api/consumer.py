"""The consumer that runs beside the API: worker events become cases, verification answers move them on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from pydantic import ValidationError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError

from api.services.bus_watch import BusWatch
from api.services.cases import CaseStore, EventRejected
from api.services.verification import Verifier
from api.services.whatif import WhatIfJobs
from bus import BusConfig
from bus.consumer import Poison, StreamConsumer
from bus.control import RESULTS, VerifyResult, WhatIfResult, results_stream
from zones import Event

log = logging.getLogger(__name__)

TRIM_EVERY_S = 5.0  # handled entries leave the stream this often; unhandled ones never do

# Outages, not the message's fault: retried without limit, with backoff, never dead-lettered.
TRANSIENT = (redis.ConnectionError, redis.TimeoutError, OperationalError, InterfaceError, DisconnectionError, OSError)


class CaseConsumerThread(threading.Thread):
    """Polls until stopped; Redis or database outages are logged and retried with backoff."""

    def __init__(self, bus: BusConfig, store: CaseStore, verifier: Verifier | None = None,
                 consumer_name: str | None = None, on_change: Callable[[], None] | None = None,
                 bus_watch: BusWatch | None = None, whatif: WhatIfJobs | None = None) -> None:
        super().__init__(name="case-consumer", daemon=True)
        handlers = {bus.stream: self._event}
        self.verifier = verifier
        self.whatif = whatif
        if verifier is not None or whatif is not None:
            handlers[results_stream(bus)] = self._result
        self.store = store
        self.bus_watch = bus_watch
        self.consumer = StreamConsumer(bus, handlers, consumer_name=consumer_name, transient=TRANSIENT)
        self.on_change = on_change or (lambda: None)
        self.stop_event = threading.Event()
        self.last_error: str | None = None

    def _event(self, raw: bytes) -> None:
        try:
            event = Event.model_validate_json(raw)
        except ValidationError as exc:
            raise Poison(f"not a valid event: {exc.error_count()} error(s): {exc}") from None
        try:
            self.store.apply_event(event)
        except EventRejected as exc:
            raise Poison(str(exc)) from None

    def _result(self, raw: bytes) -> None:
        """A worker's answer: a camera check of a resolved case, or a what-if run."""
        try:
            result = RESULTS.validate_json(raw)
        except ValidationError as exc:
            raise Poison(f"not a valid worker result: {exc}") from None
        if isinstance(result, VerifyResult) and self.verifier is not None:
            self.verifier.apply(result)
        elif isinstance(result, WhatIfResult) and self.whatif is not None:
            self.whatif.apply(result)

    def run(self) -> None:
        backoff = 0.5
        trim_due = 0.0
        while not self.stop_event.is_set():
            try:
                if self.consumer.poll(block_ms=500):
                    self.on_change()
                if time.monotonic() >= trim_due:
                    if self.bus_watch is not None:
                        self.bus_watch.check()  # did Redis lose its data? then the workers resend
                    self.consumer.trim()
                    trim_due = time.monotonic() + TRIM_EVERY_S
                self.last_error = None
                backoff = 0.5
            except (redis.RedisError, SQLAlchemyError, OSError) as exc:
                self.last_error = f"{type(exc).__name__}"
                log.warning("event consumer: %s: %s; retrying in %.1fs", type(exc).__name__, exc, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        self.join(timeout)
