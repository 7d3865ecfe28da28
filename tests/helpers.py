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


def require_tool(name: str, why: str) -> str:
    """The path of a system tool a test needs; skipped on a developer's machine without it, a failure in CI
    (STREETWATCH_REQUIRE_TOOLS=1, set by .ci/run, where dev.sh has installed everything)."""
    import os
    import shutil

    import pytest

    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({why}); ./dev.sh test installs it"
        if os.environ.get("STREETWATCH_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
