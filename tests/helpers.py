"""Small helpers shared by tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from zones import Event, episode_id


def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    """Wait for a background consumer to catch up (a network round trip, not video time)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.05)


def make_event(camera: str, zone: str, problem: str, start: float, state: str = "start", track: int = 1,
               zone_kind: str = "school", priority: str = "high", **extra: object) -> Event:
    """A hand-made event as a worker would publish it."""
    return Event.model_validate({
        "event_id": episode_id(camera, zone, problem, start, track), "class": problem, "camera_id": camera,
        "zone_id": zone, "zone_kind": zone_kind, "state": state, "start_s": start, "ts_s": start,
        "since_s": start - 5, "confidence": 0.7, "bbox": (0.1, 0.2, 0.3, 0.4), "label": "car", "track_id": track,
        "priority": priority, **extra,
    })
