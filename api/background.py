"""The API's background loops: relay changes, send webhooks, escalate overdue cases, time out verifications.

Each loop survives outages of Redis or the database (logged, retried); none holds state that grows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Loop(threading.Thread):
    """Runs `step` every `interval_s`, or at once when woken; `step` returning True runs it again at once."""

    def __init__(self, name: str, step: Callable[[], bool], interval_s: float, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.step = step
        self.interval_s = interval_s
        self.stop_event = stop
        self.wake = threading.Event()
        self.last_error: str | None = None
        self.runs = 0

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                more = self.step()
                self.runs += 1
                self.last_error = None
            except Exception as exc:  # a background loop must outlive any outage
                more = False
                if self.last_error is None:
                    log.warning("%s: %s: %s", self.name, type(exc).__name__, exc)
                self.last_error = type(exc).__name__
            if more:
                continue
            self.wake.wait(self.interval_s)
            self.wake.clear()


class Background:
    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.loops: dict[str, Loop] = {}

    def add(self, name: str, step: Callable[[], bool], interval_s: float) -> Loop:
        loop = Loop(name, step, interval_s, self.stop_event)
        self.loops[name] = loop
        return loop

    def wake(self, name: str) -> None:
        loop = self.loops.get(name)
        if loop is not None:
            loop.wake.set()

    def start(self) -> None:
        for loop in self.loops.values():
            loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        for loop in self.loops.values():
            loop.wake.set()
        for loop in self.loops.values():
            if loop.is_alive():
                loop.join(timeout)
