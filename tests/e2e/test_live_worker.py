"""The many-camera worker: batched across cameras, it raises what a replay raises; health reaches the API."""

from __future__ import annotations

from pathlib import Path

from bus import BusConfig, HealthPublisher, SnapshotStore
from settings import load_config
from tests.e2e.conftest import DATA
from worker import SchedulerConfig, Worker


def test_two_cameras_in_one_worker_raise_what_their_replays_raise(
    detector, residential_run, redis_bus: BusConfig, tmp_path: Path, make_api
):  # type: ignore[no-untyped-def]
    residential = load_config(DATA / "residential.yaml")
    highway = load_config(DATA / "highway.yaml")
    config = residential.model_copy(update={
        "cameras": residential.cameras + highway.cameras,
        "scheduler": SchedulerConfig(batch_size=4, max_wait_ms=20, health_every_s=0.2, snapshot_every_s=0.2),
    })
    received = []
    worker = Worker(config, received.extend, SnapshotStore(tmp_path / "media"), detector,
                    health_sink=HealthPublisher(redis_bus, worker_name="test-worker"))
    worker.start()
    worker.join(300)
    assert not worker.alive

    by_camera = {c: [e for e in received if e.camera_id == c] for c in ("resi-1", "highway")}
    assert by_camera["highway"] == []
    # Same model, same frames, same rules: batching across cameras changes nothing.
    assert [e.model_dump(exclude={"snapshot"}) for e in by_camera["resi-1"]] == [
        e.model_dump(exclude={"snapshot"}) for e in residential_run.events
    ]
    assert worker.batches < worker.frames_processed["resi-1"] + worker.frames_processed["highway"]

    api = make_api(consume=False)
    cameras = {c["camera_id"]: c for c in api.get("/api/cameras").json()}
    assert set(cameras) == {"resi-1", "highway"}
    resi = cameras["resi-1"]
    assert resi["frames_processed"] == resi["frames_analysed"] == residential_run.frames
    assert resi["frames_dropped"] == 0 and resi["worker"] == "test-worker"
    assert resi["frames_decoded"] > resi["frames_analysed"]
    assert resi["width"] == 640 and resi["height"] == 360
    assert api.get(resi["snapshot_url"]).status_code == 200
    # Its whole-frame "general" zone watches all seven classes; the three COCO cannot see, the segmenter does
    # (and raised nothing on the motorway: `by_camera["highway"] == []` above).
    assert api.get("/api/cameras/highway").json()["uncovered"] == []
    assert api.get("/api/cameras/nowhere").status_code == 404
    assert api.client.get("/api/cameras").status_code == 401  # nobody outside the centre reads its cameras
