"""An operator saves a zone through the API; the worker playing the camera uses it at once, without a restart,
says so, and raises cases in it."""

from __future__ import annotations

from pathlib import Path

import redis

from bus import BusConfig, EventPublisher, SnapshotStore
from bus.control import ControlListener
from bus.zonesync import read_acks
from settings import load_config
from tests.api_fixture import Api
from tests.e2e.conftest import DATA
from tests.helpers import wait_until
from worker import Worker
from worker.control import control_handler, zones_from_redis

NEAR_CURB = {"id": "near-curb", "kind": "no_parking", "name": "南侧路沿 / south curb",
             "polygon": [[0.0, 0.60], [0.80, 0.60], [0.80, 0.95], [0.0, 0.95]]}


def test_a_saved_zone_reaches_the_running_worker_which_raises_cases_in_it(detector, redis_bus: BusConfig,
                                                                    tmp_path: Path, make_api):  # type: ignore
    settings = load_config(DATA / "residential.yaml")
    camera = settings.cameras[0]
    camera = camera.model_copy(update={"zones": [z for z in camera.zones if z.id == "far-curb"],
                                       "source": camera.source.model_copy(update={"loop": True})})
    settings = settings.model_copy(update={"cameras": [camera]})
    api: Api = make_api(cameras=[camera], verification={"enabled": False})
    client = redis.Redis.from_url(redis_bus.redis_url)
    api.app.state.zone_sync.publish()
    cameras = zones_from_redis(client, redis_bus, settings.cameras)
    worker = Worker(settings, EventPublisher(redis_bus).publish, SnapshotStore(tmp_path / "media"), detector,
                    cameras=cameras)
    listener = ControlListener(redis_bus, control_handler(worker, None, client, redis_bus), worker.stop_event, client)
    worker.start()
    listener.start()
    try:
        wait_until(lambda: any(c["zone_id"] == "far-curb" for c in api.cases()), timeout_s=180,
                   what="the far curb's case before the change")
        wait_until(listener.ready.is_set, what="the worker's control listener")
        saved = api.client.post("/api/cameras/resi-1/zones", json=NEAR_CURB, headers=api.auth("operator"))
        assert saved.status_code == 201
        wait_until(lambda: read_acks(client, redis_bus), timeout_s=10, what="the worker to use the new zone")
        ack = read_acks(client, redis_bus)[-1]  # how fast is measured by `streetwatch bench zones`, not here
        assert ack["camera_id"] == "resi-1" and ack["applied_at"] >= ack["sent_at"]
        assert "near-curb" in worker.pipelines["resi-1"].zone_ids
        wait_until(lambda: any(c["zone_id"] == "near-curb" for c in api.cases()), timeout_s=180,
                   what="a case in the new zone")
        far = [c for c in api.cases() if c["zone_id"] == "far-curb"]
        assert len(far) == 1 and far[0]["status"] == "new"  # the far curb's case went on, not reopened anew
    finally:
        worker.stop()
        worker.join(30)
