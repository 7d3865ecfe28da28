"""'This zone is clear now', from the API to the worker that runs the camera, and its answer back.

A request goes on its own stream, read from its end by every worker (a request is about the camera's view now:
one sent while no worker listened, or replayed after a restart, would teach the level a different picture, so
it is never read again). Only the worker that runs the camera answers, on a short-lived Redis list the API
waits on (BLPOP): the operator sees at once how many frames the level was learnt from, or why it was refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bus.streams import BusConfig, redis_client
from bus.tail import StreamTail

log = logging.getLogger(__name__)

_IDENT = r"^[A-Za-z0-9_.-]{1,64}$"
ANSWER_TTL_S = 120  # an answer nobody waited for goes by itself


def calibrate_stream(bus: BusConfig) -> str:
    return f"{bus.stream}:calibrate"


def answer_key(bus: BusConfig, request_id: str) -> str:
    return f"{bus.stream}:calibrate:{request_id}"


class CalibrateRequest(BaseModel):
    """Learn the zone's clear level from the camera's next frame and the shares it kept for `minutes` before."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    request_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    camera_id: str = Field(pattern=_IDENT)
    zone_id: str = Field(pattern=_IDENT)
    minutes: float = Field(5.0, gt=0, le=60, description="How much of the camera's recent past counts as clear.")
    author: str = Field("", max_length=64)


class CalibrateAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    request_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    camera_id: str = Field(pattern=_IDENT)
    zone_id: str = Field(pattern=_IDENT)
    ok: bool
    frames: int = Field(0, ge=0, description="Frames learnt as clear: the live one and the recent ones.")
    recent_frames: int = Field(0, ge=0, description="Of which from the camera's last minutes.")
    frame_ts_s: float | None = Field(None, description="Frame time of the live frame.")
    levels: dict[str, float | None] = Field(default_factory=dict, description="The zone's clear level per group.")
    reason: str | None = Field(None, max_length=500, description="Why it was refused (zh-CN / English).")


def publish_calibration(client: redis.Redis, bus: BusConfig, request: CalibrateRequest) -> None:
    client.xadd(calibrate_stream(bus), {"message": request.model_dump_json()}, maxlen=1000, approximate=True)


def publish_answer(client: redis.Redis, bus: BusConfig, answer: CalibrateAnswer) -> None:
    key = answer_key(bus, answer.request_id)
    client.rpush(key, answer.model_dump_json())
    client.expire(key, ANSWER_TTL_S)


def wait_answer(client: redis.Redis, bus: BusConfig, request_id: str, wait_s: float) -> CalibrateAnswer | None:
    """The worker's answer, or None when no worker answered within `wait_s` (no worker runs the camera).

    BLPOP in slices shorter than the client's socket timeout, so a long wait is not taken for a dead socket."""
    key = answer_key(bus, request_id)
    left = wait_s
    while left > 0:
        step = min(5.0, left)
        reply = client.blpop([key], timeout=step)
        if reply is not None:
            return CalibrateAnswer.model_validate_json(reply[1])
        left -= step
    return None


class CalibrationListener(StreamTail):
    """A worker's ear on the calibration stream, from its end; Redis trouble is retried with backoff."""

    def __init__(self, bus: BusConfig, handler: Callable[[CalibrateRequest], CalibrateAnswer | None],
                 stop: threading.Event, client: redis.Redis | None = None) -> None:
        super().__init__("calibration-listener", client or redis_client(bus.redis_url), calibrate_stream(bus), stop,
                         20)
        self.bus = bus
        self.handler = handler

    def handle(self, fields: dict[bytes, bytes]) -> None:
        self._handle(fields)

    def _handle(self, fields: dict[bytes, bytes]) -> None:
        try:
            request = CalibrateRequest.model_validate_json(fields.get(b"message") or b"")
        except ValidationError as exc:
            log.error("calibration stream: ignored a bad request: %s", exc)
            return
        try:
            answer = self.handler(request)
            if answer is not None:
                publish_answer(self.client, self.bus, answer)
        except Exception:  # one failed calibration must not stop the next
            log.exception("calibration %s of %s/%s failed", request.request_id, request.camera_id, request.zone_id)
