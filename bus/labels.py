"""Labels from the centre to the workers: "this zone shows the problem" or "this zone is clear", with the
picture it was said of. The API keeps every label in its database and appends it here; a worker reads the
stream from its start (its cameras' labels teach their zone classifiers and clear levels), then follows it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bus.streams import BusConfig, redis_client
from zones import ProblemClass

log = logging.getLogger(__name__)

_IDENT = r"^[A-Za-z0-9_.-]{1,64}$"


def labels_stream(bus: BusConfig) -> str:
    return f"{bus.stream}:labels"


def heads_key(bus: BusConfig) -> str:
    """Workers report their zone classifiers here (camera/zone/class -> figures), for coverage reports."""
    return f"{bus.stream}:heads"


class LabelMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    label_id: int = Field(ge=1)
    camera_id: str = Field(pattern=_IDENT)
    zone_id: str = Field(pattern=_IDENT)
    problem: ProblemClass = Field(alias="class")
    positive: bool = Field(description="True: the zone shows the problem; False: the zone is clear of it.")
    image: str = Field(max_length=255, description="The picture, relative to the media dir.")


def publish_label(client: redis.Redis, bus: BusConfig, label: LabelMessage) -> None:
    client.xadd(labels_stream(bus), {"label": label.model_dump_json()}, maxlen=200_000, approximate=True)


class LabelListener(threading.Thread):
    """Reads the label stream from its start, then follows it; Redis trouble is retried with backoff."""

    def __init__(self, bus: BusConfig, handler: Callable[[LabelMessage], None], stop: threading.Event,
                 client: redis.Redis | None = None) -> None:
        super().__init__(name="label-listener", daemon=True)
        self.bus = bus
        self.handler = handler
        self.stop_event = stop
        self.client = client or redis_client(bus.redis_url)
        self.caught_up = threading.Event()
        self._last_id = "0-0"

    def run(self) -> None:
        backoff = 0.5
        while not self.stop_event.is_set():
            try:
                reply = self.client.xread({labels_stream(self.bus): self._last_id}, count=200,
                                          block=None if not self.caught_up.is_set() else 1000)
                backoff = 0.5
            except redis.RedisError as exc:
                log.warning("label stream: %s; retrying in %.1fs", exc, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if not reply:
                self.caught_up.set()
                continue
            for _stream, messages in reply:
                for message_id, fields in messages:
                    self._last_id = message_id.decode() if isinstance(message_id, bytes) else message_id
                    self._handle(fields)

    def _handle(self, fields: dict[bytes, bytes]) -> None:
        try:
            label = LabelMessage.model_validate_json(fields.get(b"label") or b"")
        except ValidationError as exc:
            log.error("label stream: ignored a bad label: %s", exc)
            return
        try:
            self.handler(label)
        except Exception:  # one unreadable picture must not stop the others
            log.exception("label %d could not be learned", label.label_id)
