"""What a worker does with a control message from the API: verify a zone, resend what Redis lost, or take
a camera's new zones."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import redis

from bus import BusConfig, SpoolingPublisher
from bus.control import AnyControl, ResendRequest, VerifyRequest, WhatIfRequest, ZonesChanged
from bus.zonesync import ZoneSet, acknowledge, read_zone_set
from worker.config import CameraConfig
from worker.live import Worker
from zones.homography import Homography

log = logging.getLogger(__name__)


def zones_from_redis(client: redis.Redis, bus: BusConfig, cameras: list[CameraConfig]) -> list[CameraConfig]:
    """The cameras with the zones operators saved (the store, through Redis) where there are any; the YAML
    configuration's zones for the others. Redis being away at start leaves the YAML's."""
    placed = []
    for camera in cameras:
        try:
            zone_set = read_zone_set(client, bus, camera.id)
        except (redis.RedisError, ValueError) as exc:
            log.warning("camera %s: saved zones unreadable (%s); using the configuration's", camera.id, exc)
            zone_set = None
        placed.append(camera if zone_set is None else camera.model_copy(update={"zones": zone_set.zones}))
    return placed


def adopt_saved_calibrations(worker: Worker, client: redis.Redis, bus: BusConfig) -> None:
    """Homographies saved in the dashboard, for the cameras this worker runs (their zones came at start)."""
    for camera_id in list(worker.pipelines):
        try:
            zone_set = read_zone_set(client, bus, camera_id)
        except (redis.RedisError, ValueError):
            continue
        if zone_set is not None and zone_set.homography is not None:
            worker.replace_zones(camera_id, zone_set.zones, None, placement(zone_set))


def placement(zone_set: ZoneSet) -> Homography | None:
    if zone_set.homography is None or zone_set.origin is None:
        return None
    return Homography(np.array(zone_set.homography), zone_set.origin)


def control_handler(worker: Worker, sink: SpoolingPublisher | None, client: redis.Redis | None = None,
                    bus: BusConfig | None = None) -> Callable[[AnyControl], None]:
    if client is not None and bus is not None:
        def applied(camera_id: str, token: object) -> None:
            revision, sent_at = token if isinstance(token, tuple) else (0, 0.0)
            try:
                acknowledge(client, bus, camera_id, revision, sent_at)
            except redis.RedisError as exc:
                log.warning("camera %s: zone revision %s in use, not acknowledged: %s", camera_id, revision, exc)

        worker.on_zones_applied = applied

    def handle(message: AnyControl) -> None:
        if isinstance(message, ResendRequest):
            if sink is not None:
                sink.resend(message.since)
        elif isinstance(message, VerifyRequest):
            worker.submit_check(message)
        elif isinstance(message, WhatIfRequest):
            worker.submit_whatif(message)
        elif isinstance(message, ZonesChanged) and client is not None and bus is not None:
            if message.camera_id not in worker.pipelines:
                return
            zone_set = read_zone_set(client, bus, message.camera_id)
            if zone_set is not None:
                worker.replace_zones(message.camera_id, zone_set.zones, (zone_set.revision, message.sent_at),
                                     placement(zone_set))

    return handle
