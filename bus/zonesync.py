"""Each camera's current zones on Redis: the API writes the set when an operator saves, workers read it at
start and whenever a ZonesChanged message says so, and say back when they use it (for the reload's latency).

The set is one hash field per camera, so a worker that starts (or missed a message) reads what is current
now; the YAML configuration is only the fallback for a camera whose set was never published.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from pydantic import BaseModel, ConfigDict, Field

from bus.control import ZonesChanged, publish_request
from bus.streams import BusConfig
from zones import ZoneConfig


class ZoneSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_id: str
    revision: int = Field(ge=0)
    zones: list[ZoneConfig]
    homography: list[list[float]] | None = Field(None, description="Image (0..1) to local map metres, 3x3.")
    origin: tuple[float, float] | None = Field(None, description="lon, lat the local metres are measured from.")


def zones_key(bus: BusConfig) -> str:
    return f"{bus.stream}:zones"


def acks_stream(bus: BusConfig) -> str:
    return f"{bus.stream}:zone-acks"


def publish_zone_set(client: redis.Redis, bus: BusConfig, zone_set: ZoneSet) -> None:
    """Write the set, then tell the workers; a worker that misses the message reads the set when it starts."""
    client.hset(zones_key(bus), zone_set.camera_id, zone_set.model_dump_json())
    publish_request(client, bus, ZonesChanged(camera_id=zone_set.camera_id, revision=zone_set.revision,
                                              sent_at=time.time()))


def read_zone_set(client: redis.Redis, bus: BusConfig, camera_id: str) -> ZoneSet | None:
    raw = client.hget(zones_key(bus), camera_id)
    return ZoneSet.model_validate_json(raw) if raw else None


def acknowledge(client: redis.Redis, bus: BusConfig, camera_id: str, revision: int, sent_at: float) -> None:
    client.xadd(acks_stream(bus), {"ack": json.dumps({"camera_id": camera_id, "revision": revision,
                                                      "sent_at": sent_at, "applied_at": time.time()})},
                maxlen=10_000, approximate=True)


def read_acks(client: redis.Redis, bus: BusConfig, since_id: str = "-") -> list[dict[str, Any]]:
    return [json.loads(fields[b"ack"]) for _id, fields in client.xrange(acks_stream(bus), min=since_id)]
