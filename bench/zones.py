"""Operators' loop, measured: how soon a saved zone is in use on the camera's worker, and what a what-if costs.

- `measure_reload`: the real API and a real worker (processes of their own) on a looping clip; `saves` zone
  saves through the API, each timed from the request to the worker's acknowledgement that it uses it.
- `measure_whatif`: one clip played through the worker with its recording on (the reference: decode, detect,
  track, rules), then a what-if of draft zones against the saved ones on that recording, in the same run.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.common import percentile
from bench.service import running_api
from bus import BusConfig, SnapshotStore
from bus.zonesync import read_acks
from models.registry import current_assets_dir

CURB = {"id": "curb", "kind": "no_parking", "polygon": [[0.08, 0.30], [0.50, 0.20], [0.50, 0.40], [0.12, 0.46]]}
NEAR = {"id": "near-curb", "kind": "no_parking", "polygon": [[0.0, 0.60], [0.80, 0.60], [0.80, 0.95], [0.0, 0.95]]}


def measure_reload(saves: int = 100, redis_url: str = "redis://127.0.0.1:6379/15") -> dict[str, Any]:
    clip = current_assets_dir() / "video" / "residential-street-parked-cars.mp4"
    camera = {"id": "bench-cam", "source": {"url": str(clip), "loop": True, "realtime": True, "analysis_fps": 2},
              "zones": [CURB]}
    more = {"cameras": [camera], "scheduler": {"metrics_port": 0}}
    with running_api(redis_url=redis_url, more=more, api_settings={"verification": {"enabled": False}}) as api:
        log = (api.config_path.parent / "worker.log").open("w")
        worker = subprocess.Popen([sys.executable, "-m", "cli.main", "worker", "-c", str(api.config_path)],
                                  stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        bus = BusConfig(redis_url=redis_url, stream=api.stream)
        client = redis.Redis.from_url(redis_url)
        latencies, from_publish = [], []
        try:
            with httpx.Client(base_url=api.base_url, headers=api.auth(), timeout=30) as http:
                _wait_for_camera(http)
                for n in range(saves):
                    zone = {**CURB, "overrides": {"illegal_parking_motor": {"dwell_s": 10 + n % 7}}}
                    known = len(read_acks(client, bus))
                    started = time.time()
                    http.put("/api/cameras/bench-cam/zones/curb", json=zone).raise_for_status()
                    deadline = time.monotonic() + 30
                    while len(acks := read_acks(client, bus)) <= known:
                        if time.monotonic() > deadline:
                            raise RuntimeError("the worker did not acknowledge a zone save within 30 s")
                        time.sleep(0.005)
                    latencies.append(acks[-1]["applied_at"] - started)
                    from_publish.append(acks[-1]["applied_at"] - acks[-1]["sent_at"])
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
            log.close()
    return {"saves": saves, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * percentile(latencies, 0.99), "max_ms": 1000 * max(latencies),
            "publish_to_use_p50_ms": 1000 * statistics.median(from_publish), "analysis_fps": 2}


def _wait_for_camera(http: httpx.Client, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reports = http.get("/api/cameras").json()
        if any(r["camera_id"] == "bench-cam" and r.get("state") == "online" for r in reports):
            return
        time.sleep(0.5)
    raise RuntimeError("the worker's camera did not come online")


def measure_whatif(clip: Path | None = None) -> dict[str, Any]:
    from detector import Detector
    from settings import load_config
    from worker import Worker
    from worker.recorder import recorded_frames
    from worker.whatif import on_recording
    from zones import ZoneConfig

    clip = clip or current_assets_dir() / "video" / "residential-street-parked-cars.mp4"
    settings = load_config(Path(__file__).resolve().parents[1] / "tests" / "data" / "residential.yaml")
    camera = settings.cameras[0].model_copy(update={"source": settings.cameras[0].source.model_copy(
        update={"url": str(clip)})})
    settings = settings.model_copy(update={"cameras": [camera]})
    detector = Detector(settings.detector)
    with tempfile.TemporaryDirectory(prefix="streetwatch-whatif-") as folder:
        started = time.perf_counter()
        worker = Worker(settings, lambda _events: None, SnapshotStore(Path(folder)), detector,
                        recording_dir=Path(folder) / "recordings")
        worker.start()
        worker.join(3600)
        replay_s = time.perf_counter() - started
        frames = list(recorded_frames(Path(folder) / "recordings", camera.id))
        started = time.perf_counter()
        outcome = on_recording(settings, camera, camera.zones, [*camera.zones, ZoneConfig.model_validate(NEAR)],
                               frozenset(detector.labels), frames)
        whatif_s = time.perf_counter() - started
    minutes = (frames[-1].ts_s - frames[0].ts_s) / 60 if len(frames) > 1 else 0.0
    return {"clip": clip.name, "frames": len(frames), "recording_minutes": round(minutes, 2),
            "replay_s": round(replay_s, 2), "whatif_s": round(whatif_s, 3),
            "replay_s_per_minute": round(replay_s / minutes, 2) if minutes else None,
            "whatif_s_per_minute": round(whatif_s / minutes, 3) if minutes else None,
            "whatif_to_replay": round(whatif_s / replay_s, 4), "draft_starts": sum(
                e["state"] == "start" for e in outcome.draft)}
