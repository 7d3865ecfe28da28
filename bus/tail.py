"""Following a Redis stream from the moment a listener starts: the workers' ears on control and calibration.

A request sent while no worker listened is the sender's to time out, so a listener starts at the stream's
end, pinned to an id at once (a bare '$' would drop what arrives between two reads); Redis trouble is
retried with backoff; each message is handed over in order.
"""

from __future__ import annotations

import logging
import threading

import redis

log = logging.getLogger(__name__)


class StreamTail(threading.Thread):
    """Reads `stream` from its end onwards until `stop` is set; subclasses say what a message does (`handle`)."""

    def __init__(self, name: str, client: redis.Redis, stream: str, stop: threading.Event, count: int) -> None:
        super().__init__(name=name, daemon=True)
        self.client = client
        self.stream = stream
        self.stop_event = stop
        self.count = count
        self.ready = threading.Event()
        self._last_id: str | None = None

    def handle(self, fields: dict[bytes, bytes]) -> None:
        raise NotImplementedError

    def run(self) -> None:
        backoff = 0.5
        while not self.stop_event.is_set():
            try:
                if self._last_id is None:  # pin the start now, so nothing sent after start-up is missed
                    last = self.client.xinfo_stream(self.stream)["last-generated-id"] \
                        if self.client.exists(self.stream) else b"0-0"
                    self._last_id = last.decode() if isinstance(last, bytes) else str(last)
                self.ready.set()
                reply = self.client.xread({self.stream: self._last_id}, count=self.count, block=1000)
                backoff = 0.5
            except redis.RedisError as exc:
                log.warning("%s: %s; retrying in %.1fs", self.stream, exc, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            for _stream, messages in reply or []:
                for message_id, fields in messages:
                    self._last_id = message_id.decode() if isinstance(message_id, bytes) else message_id
                    self.handle(fields)
