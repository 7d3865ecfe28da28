"""Control messages between the API and the workers, on Redis: the API never calls a worker directly.

Requests go on one control stream that every worker reads from the moment it starts (plain
XREAD, no group): each acts only on the cameras it runs, so sharding needs no routing table.
Results come back on a stream the API reads with a consumer group, like events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal

import redis
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bus.streams import BusConfig, redis_client
from bus.tail import StreamTail
from zones import ProblemClass

log = logging.getLogger(__name__)

_IDENT = r"^[A-Za-z0-9_.-]{1,64}$"


def control_stream(bus: BusConfig) -> str:
    return f"{bus.stream}:control"


def results_stream(bus: BusConfig) -> str:
    return f"{bus.stream}:verify-results"


class VerifyRequest(BaseModel):
    """Look again at one zone of one camera for `frames` analysed frames, for one class."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True, allow_inf_nan=False)

    type: Literal["verify"] = "verify"
    request_id: str = Field(min_length=1, max_length=64)
    case_id: int = Field(ge=1)
    camera_id: str = Field(pattern=_IDENT)
    zone_id: str = Field(pattern=_IDENT)
    problem: ProblemClass = Field(alias="class")
    frames: int = Field(20, ge=1, le=10_000)
    present_share: float = Field(0.5, gt=0.0, le=1.0, description="Share of frames that means still there.")


class VerifyResult(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True, allow_inf_nan=False)

    type: Literal["verify"] = "verify"
    request_id: str = Field(min_length=1, max_length=64)
    case_id: int = Field(ge=1)
    camera_id: str = Field(pattern=_IDENT)
    zone_id: str = Field(pattern=_IDENT)
    problem: ProblemClass = Field(alias="class")
    verdict: Literal["gone", "present", "unavailable"]
    frames: int = Field(ge=0)
    present_frames: int = Field(ge=0)
    snapshot: str | None = Field(None, max_length=255, description="After-snapshot, relative to the media dir.")
    note: str | None = Field(None, max_length=500)
    first_ts_s: float | None = None
    last_ts_s: float | None = None


class ResendRequest(BaseModel):
    """Redis lost its data: every worker sends again the events it sent since `since` (None: all it keeps)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["resend"] = "resend"
    since: float | None = Field(None, ge=0, description="Unix time.")
    reason: str = Field("", max_length=200)


class ZonesChanged(BaseModel):
    """A camera's zones changed: its worker reads the new set (bus.zonesync) and uses it at once."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["zones"] = "zones"
    camera_id: str = Field(pattern=_IDENT)
    revision: int = Field(ge=0)
    sent_at: float = Field(ge=0, description="Unix time of the save, for the reload's latency.")


class WhatIfRequest(BaseModel):
    """Run draft zones beside the saved ones on the camera's recording or on an uploaded clip."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["whatif"] = "whatif"
    job_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    camera_id: str = Field(pattern=_IDENT)
    draft: list[dict[str, Any]] = Field(max_length=200, description="Draft zones (ZoneConfig fields).")
    minutes: float = Field(10.0, gt=0, le=24 * 60, description="How much of the recording.")
    clip: str | None = Field(None, max_length=255, description="An uploaded clip, relative to the media dir.")


class WhatIfResult(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["whatif"] = "whatif"
    job_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    camera_id: str = Field(pattern=_IDENT)
    ok: bool
    outcome: dict[str, Any] | None = None
    error: str | None = Field(None, max_length=500)
    seconds: float = Field(0.0, ge=0, description="Wall time of the run.")


ControlMessage = Annotated[VerifyRequest | ResendRequest | ZonesChanged | WhatIfRequest, Field(discriminator="type")]
AnyControl = VerifyRequest | ResendRequest | ZonesChanged | WhatIfRequest
ResultMessage = Annotated[VerifyResult | WhatIfResult, Field(discriminator="type")]
RESULTS = TypeAdapter(ResultMessage)
_CONTROL = TypeAdapter(ControlMessage)


def publish_request(client: redis.Redis, bus: BusConfig, request: AnyControl) -> str:
    reply = client.xadd(control_stream(bus), {"message": request.model_dump_json()}, maxlen=10_000, approximate=True)
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def publish_result(client: redis.Redis, bus: BusConfig, result: VerifyResult | WhatIfResult) -> None:
    client.xadd(results_stream(bus), {"message": result.model_dump_json()})  # trimmed by the API once handled


class ControlListener(StreamTail):
    """A worker's ear on the control stream: parses each message and hands it to `handler`.

    Starts at the stream's end: a request sent while no worker listened is the API's to time
    out. Redis trouble is retried with backoff; a bad message is logged and skipped.
    """

    def __init__(self, bus: BusConfig, handler: Callable[[AnyControl], object],
                 stop: threading.Event,
                 client: redis.Redis | None = None) -> None:
        super().__init__("control-listener", client or redis_client(bus.redis_url), control_stream(bus), stop, 100)
        self.bus = bus
        self.handler = handler

    def handle(self, fields: dict[bytes, bytes]) -> None:
        self._dispatch(fields)

    def _dispatch(self, fields: dict[bytes, bytes]) -> None:
        raw = fields.get(b"message") or fields.get("message")  # type: ignore[call-overload]
        try:
            message = _CONTROL.validate_json(raw or b"")
        except ValidationError as exc:
            log.error("control stream: ignored a bad message: %s", exc)
            return
        try:
            self.handler(message)
        except Exception:
            log.exception("control stream: handling %s failed", message.type)
