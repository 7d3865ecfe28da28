"""Reading Redis Streams in a consumer group: at least once, never wedged by one message.

A handler gets one message's payload. What happens next depends on how it fails:

- it returns: the message is acknowledged;
- it raises `Poison` (the message itself can never be handled: not valid, or names a case it
  does not belong to): it goes to the dead-letter stream at once, with the reason;
- it raises one of the `transient` errors (the database or Redis is away): the message stays
  pending, the batch stops, and the caller backs off; an outage never dead-letters good messages;
- it raises anything else (the database refused a value, a bug): the message is retried up to
  `max_faults` times in this process, then dead-lettered with the real error, so the messages
  behind it go on.

A group that vanished (Redis restarted without its data, the stream deleted) is made again
from the start of whatever the stream now holds.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import OrderedDict
from collections.abc import Callable

import redis

from bus.streams import BusConfig, redis_client

log = logging.getLogger(__name__)

Handler = Callable[[bytes], None]
PAYLOAD_FIELDS = (b"event", b"message")  # an event from a worker, a control or result message


class Poison(Exception):
    """This message can never be handled as it is; the text says why."""


class StreamConsumer:
    def __init__(
        self,
        config: BusConfig,
        handlers: dict[str, Handler],
        consumer_name: str | None = None,
        client: redis.Redis | None = None,
        max_faults: int = 3,
        transient: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError),
    ) -> None:
        self.config = config
        self.handlers = handlers
        self.name = consumer_name or f"{socket.gethostname()}-{os.getpid()}"
        self.client = client or redis_client(config.redis_url)
        self.max_faults = max_faults
        self.transient = transient
        self.handled = 0
        self.dead_lettered = 0
        self.vanished = 0
        self.groups_recreated = 0
        self.consumers_removed = 0
        self._faults: OrderedDict[tuple[str, str], int] = OrderedDict()  # bounded: see _fault
        self._groups_ready = False

    def ensure_groups(self) -> None:
        for stream in self.handlers:
            try:
                self.client.xgroup_create(stream, self.config.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_ready = True

    def backlog(self) -> int:
        """Messages not yet handled by the group, all streams together: unread (lag) plus pending."""
        total = 0
        for stream in self.handlers:
            for group in self.client.xinfo_groups(stream):
                name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
                if name == self.config.group:
                    total += int(group.get("lag") or 0) + int(group.get("pending") or 0)
        return total

    def poll(self, block_ms: int = 1000, count: int = 100) -> int:
        """Handle what is waiting: own pending messages first, then stale ones of dead consumers, then new."""
        try:
            return self._poll(block_ms, count)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            log.warning("consumer group %s is gone (Redis lost its data?); making it again", self.config.group)
            self.groups_recreated += 1
            self._groups_ready = False
            return 0

    def _poll(self, block_ms: int, count: int) -> int:
        if not self._groups_ready:
            self.ensure_groups()
        handled = 0
        for stream in self.handlers:
            handled += self._read({stream: "0"}, count, block_ms=None)
            handled += self._claim_stale(stream, count)
        if handled:
            return handled
        return self._read({stream: ">" for stream in self.handlers}, count, block_ms=block_ms)

    def _read(self, streams: dict[str, str], count: int, block_ms: int | None) -> int:
        reply = self.client.xreadgroup(self.config.group, self.name, streams, count=count, block=block_ms)
        handled = 0
        for stream, messages in reply or []:
            name = stream.decode() if isinstance(stream, bytes) else stream
            for message_id, fields in messages:
                handled += self._handle(name, message_id, fields)
        return handled

    def _claim_stale(self, stream: str, count: int) -> int:
        _next, messages, *_ = self.client.xautoclaim(
            stream, self.config.group, self.name, self.config.claim_idle_ms, "0-0", count=count
        )
        return sum(self._handle(stream, message_id, fields) for message_id, fields in messages)

    def _handle(self, stream: str, message_id: bytes | str, fields: dict[bytes, bytes] | None) -> int:
        mid = message_id.decode() if isinstance(message_id, bytes) else message_id
        if not fields:  # trimmed away while pending: nothing left to handle; counted, never silent
            self.vanished += 1
            self._dead_letter(stream, mid, b"", "message vanished from the stream (trimmed while pending)")
            return 1
        raw = next((fields[key] for key in PAYLOAD_FIELDS if key in fields), None)
        try:
            if raw is None:
                raise Poison(f"no payload: the entry has fields {sorted(k.decode(errors='replace') for k in fields)}, "
                             "none of event or message")
            self.handlers[stream](raw)
        except Poison as exc:
            self._dead_letter(stream, mid, raw or b"", str(exc))
            return 1
        except self.transient:
            raise
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if self._fault(stream, mid) >= self.max_faults:
                self._dead_letter(stream, mid, raw, f"failed {self.max_faults} times: {reason}")
            else:
                log.warning("message %s on %s failed (%s); will retry", mid, stream, reason[:300])
            return 1
        self.client.xack(stream, self.config.group, mid)
        self._faults.pop((stream, mid), None)
        self.handled += 1
        return 1

    def _fault(self, stream: str, message_id: str) -> int:
        key = (stream, message_id)
        self._faults[key] = self._faults.get(key, 0) + 1
        self._faults.move_to_end(key)
        while len(self._faults) > 10_000:
            self._faults.popitem(last=False)
        return self._faults[key]

    def _dead_letter(self, stream: str, message_id: str, raw: bytes, reason: str) -> None:
        log.error("message %s on %s moved to %s: %s", message_id, stream, dead_letter_stream(stream), reason[:500])
        pipe = self.client.pipeline()
        pipe.xadd(
            dead_letter_stream(stream),
            {"message_id": message_id, "stream": stream, "payload": raw, "reason": reason[:2000]},
            maxlen=self.config.max_len,
            approximate=True,
        )
        pipe.xack(stream, self.config.group, message_id)
        pipe.execute()
        self._faults.pop((stream, message_id), None)
        self.dead_lettered += 1


    def trim(self, idle_consumer_s: float = 3600.0) -> int:
        """Drop what the group has handled (never an entry it has not), and consumers long gone with nothing
        pending; returns the entries trimmed. Safe to run from every replica."""
        trimmed = 0
        for stream in self.handlers:
            groups = {_text(g["name"]): g for g in self.client.xinfo_groups(stream)}
            group = groups.get(self.config.group)
            if group is None:
                continue
            summary = self.client.xpending(stream, self.config.group)
            low = _text(summary["min"]) if summary.get("pending") else _text(group["last-delivered-id"])
            if low and low != "0-0":
                trimmed += int(self.client.xtrim(stream, minid=low))
            for consumer in self.client.xinfo_consumers(stream, self.config.group):
                name = _text(consumer["name"])
                if name != self.name and not consumer["pending"] and consumer["idle"] > idle_consumer_s * 1000:
                    self.client.xgroup_delconsumer(stream, self.config.group, name)
                    self.consumers_removed += 1
        return trimmed


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def dead_letter_stream(stream: str) -> str:
    return f"{stream}:dead"
