"""The worker's answers to the control channel for its own cameras: verify a zone, run a what-if, take new zones.

Requests arrive on the control listener's thread (`worker.control.control_handler`); verification and what-if
go to the camera's checks and the what-if runner at once, while new zones wait here and are put in use by the
inference thread at the camera's next analysed frame, so a pipeline is only ever touched by that thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bus.control import VerifyRequest, WhatIfRequest
from streams import Frame
from worker.pipeline import CameraPipeline
from worker.zone_readings import ZoneReader
from zones import Event, ZoneConfig
from zones.homography import Homography

if TYPE_CHECKING:
    from worker.whatif_jobs import WhatIfRunner

Deliver = Callable[[list[Event], Frame | None], None]
ZonesApplied = Callable[[str, object], None]


class CameraControls:
    """Control requests for the cameras in `pipelines`; False from a submit means "not one of mine"."""

    def __init__(self, pipelines: dict[str, CameraPipeline], zone_readings: ZoneReader,
                 deliver: Deliver) -> None:
        self.pipelines = pipelines  # the worker's own dict: cameras added at start are seen here
        self.zone_readings = zone_readings
        self.deliver = deliver  # events a zone change ends, with the frame it happened on
        self.whatif: WhatIfRunner | None = None  # set by whoever answers what-if requests
        self.on_zones_applied: ZonesApplied | None = None  # `token` back once new zones are in use
        self._new_zones: dict[str, tuple[list[ZoneConfig], object, Homography | None]] = {}
        self._lock = threading.Lock()

    def submit_check(self, request: VerifyRequest) -> bool:
        """A verification request from the API; False when this worker does not run that camera."""
        pipeline = self.pipelines.get(request.camera_id)
        if pipeline is None or pipeline.checks is None:
            return False
        pipeline.checks.submit(request)
        return True

    def submit_whatif(self, request: WhatIfRequest) -> bool:
        """Run a what-if for one of this worker's cameras, against the zones it uses now."""
        pipeline = self.pipelines.get(request.camera_id)
        if pipeline is None or self.whatif is None:
            return False
        self.whatif.submit(request, pipeline.camera, list(pipeline.zones))
        return True

    def replace_zones(self, camera_id: str, zones: list[ZoneConfig], token: object = None,
                      homography: Homography | None = None) -> bool:
        """New zones for a camera, used from its next analysed frame (called from any thread); `token` comes
        back through `on_zones_applied` once they are in use. False when this worker does not run the camera."""
        if camera_id not in self.pipelines:
            return False
        with self._lock:
            self._new_zones[camera_id] = (zones, token, homography)
        return True

    def apply_new_zones(self, frame: Frame) -> None:
        """On the inference thread, before `frame` is processed: the camera's waiting zones, if any, in use."""
        with self._lock:
            pending = self._new_zones.pop(frame.camera_id, None)
        if pending is None:
            return
        zones, token, homography = pending
        self.zone_readings.set_zones(frame.camera_id, zones)
        events = self.pipelines[frame.camera_id].reload_zones(zones, frame.ts_s, homography)
        if events:
            self.deliver(events, frame)
        if self.on_zones_applied is not None:
            self.on_zones_applied(frame.camera_id, token)
