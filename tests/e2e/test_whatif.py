"""What-if on real footage: a worker records what the residential camera saw; draft zones run beside the saved
ones on that recording (and on an uploaded clip) on the worker, and the saved zones stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from bus import BusConfig, EventPublisher, SnapshotStore
from bus.control import ControlListener, publish_result
from settings import load_config
from tests.api_fixture import Api
from tests.conftest import RESIDENTIAL
from tests.e2e.conftest import DATA
from tests.helpers import wait_until
from worker import Worker
from worker.control import control_handler
from worker.whatif_jobs import WhatIfRunner

NEAR_CURB = {"id": "near-curb", "kind": "no_parking", "polygon": [[0.0, 0.60], [0.80, 0.60], [0.80, 0.95],
                                                                  [0.0, 0.95]]}


def _done(api: Api, job_id: str) -> dict:
    wait_until(lambda: api.get(f"/api/cameras/resi-1/whatif/{job_id}").json()["status"] != "queued",
               timeout_s=300, what="the what-if")
    return api.get(f"/api/cameras/resi-1/whatif/{job_id}").json()


def test_draft_zones_run_beside_the_saved_ones_on_the_recording_and_on_an_upload(
    detector, redis_bus: BusConfig, tmp_path: Path, make_api
):  # type: ignore[no-untyped-def]
    settings = load_config(DATA / "residential.yaml")
    camera = settings.cameras[0]
    api: Api = make_api(cameras=[camera], verification={"enabled": False})
    media = tmp_path / "media"
    client = redis.Redis.from_url(redis_bus.redis_url)
    worker = Worker(settings, EventPublisher(redis_bus).publish, SnapshotStore(media), detector,
                    recording_dir=media / "recordings")
    worker.whatif = WhatIfRunner(settings, media / "recordings", media, frozenset(detector.labels),
                                 lambda result: publish_result(client, redis_bus, result))
    listener = ControlListener(redis_bus, control_handler(worker, None, client, redis_bus), worker.stop_event, client)
    worker.start()
    listener.start()
    try:
        worker.join(300)  # the clip plays to its end: its recording is complete
        saved_before = api.get("/api/cameras/resi-1/zones").json()
        draft = [z["zone"] for z in saved_before] + [NEAR_CURB]
        job = api.client.post("/api/cameras/resi-1/whatif", json={"zones": draft, "minutes": 5},
                              headers=api.auth("operator"))
        assert job.status_code == 202 and job.json()["status"] == "queued"
        result = _done(api, job.json()["job_id"])
        assert result["status"] == "done", result["error"]
        assert result["frames"] == worker.frames_processed["resi-1"]
        by_run = {run: [e for e in result["timeline"] if e["run"] == run and e["state"] == "start"]
                  for run in ("saved", "draft")}
        assert {e["zone_id"] for e in by_run["saved"]} == {"far-curb"}  # the three parked cars
        assert len(by_run["saved"]) == 3
        assert {e["zone_id"] for e in by_run["draft"]} == {"far-curb", "near-curb"}
        # The zones both runs share raise the same: only the draft's new zone differs.
        same = lambda run: [(e["start_s"], e["track_id"]) for e in by_run[run] if e["zone_id"] == "far-curb"]  # noqa
        assert same("saved") == same("draft")
        assert api.get("/api/cameras/resi-1/zones").json() == saved_before  # nothing saved by a what-if

        text = api.client.post("/api/cameras/resi-1/whatif/upload", files={"clip": ("clip.mp4", b"not a video" * 99)},
                               data={"zones": "[]"}, headers=api.auth("operator"))
        assert text.status_code == 422 and "not a video" in text.text
        assert api.client.post("/api/cameras/resi-1/whatif", json={"zones": draft},
                               headers=api.auth("viewer")).status_code == 403
        with RESIDENTIAL.open("rb") as clip:
            uploaded = api.client.post("/api/cameras/resi-1/whatif/upload", files={"clip": ("street.mp4", clip)},
                                       data={"zones": json.dumps(draft)}, headers=api.auth("operator"))
        assert uploaded.status_code == 202
        on_clip = _done(api, uploaded.json()["job_id"])
        assert on_clip["status"] == "done", on_clip["error"]
        starts = {e["zone_id"] for e in on_clip["timeline"] if e["run"] == "draft" and e["state"] == "start"}
        assert starts == {"far-curb", "near-curb"}
        assert not list((media / "uploads").glob("*"))  # the upload is gone once used
    finally:
        worker.stop()
        worker.whatif.close()
