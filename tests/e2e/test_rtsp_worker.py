"""A worker on a real RTSP camera: raises the parked cars, rides out the camera going away."""

from __future__ import annotations

import time

from bus import BusConfig, HealthPublisher
from settings import load_config
from streams import CameraState
from tests.conftest import RESIDENTIAL
from tests.e2e.conftest import DATA
from tests.helpers import wait_until
from worker import SchedulerConfig, Worker
from zones import EventState, RulesConfig


def test_worker_raises_events_from_rtsp_and_reconnects_after_a_restart(
    detector, rtsp_server, redis_bus: BusConfig
):  # type: ignore[no-untyped-def]
    server = rtsp_server({"/resi": RESIDENTIAL})
    config = load_config(DATA / "residential.yaml")
    camera = config.cameras[0]
    live_camera = camera.model_copy(update={"source": camera.source.model_copy(update={
        "url": server.url("/resi"), "stall_timeout_s": 2.0, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0,
    })})
    settings = config.model_copy(update={
        "cameras": [live_camera],
        "rules": RulesConfig.model_validate({"illegal_parking_motor": {"dwell_s": 5, "clear_s": 10}}),
        "scheduler": SchedulerConfig(health_every_s=0.5),
    })
    received = []
    worker = Worker(settings, received.extend, None, detector,
                    health_sink=HealthPublisher(redis_bus, worker_name="rtsp-test"))
    worker.start()
    try:
        starts = lambda: [e for e in received if e.state is EventState.START]  # noqa: E731
        wait_until(lambda: len(starts()) >= 3, timeout_s=40, what="three parked cars raised over RTSP")
        assert {e.zone_id for e in starts()} == {"far-curb"}
        feed = worker.feeds["resi-1"]
        assert feed.health.state is CameraState.ONLINE
        # Live time: the frames are stamped on the Unix clock, so the events are too.
        assert abs(starts()[0].start_s - time.time()) < 60

        processed = worker.frames_processed["resi-1"]
        server.restart(pause_s=1.0)
        wait_until(lambda: feed.health.reconnects >= 1, timeout_s=20, what="the reconnect")
        wait_until(lambda: worker.frames_processed["resi-1"] > processed + 10, timeout_s=30,
                   what="frames after the restart")
        assert feed.health.state is CameraState.ONLINE
        assert worker.alive
    finally:
        worker.stop()
        worker.join(15)
    assert not worker.alive


def test_evidence_comes_from_the_main_stream_when_a_substream_is_analysed(
    detector, rtsp_server, tmp_path
):  # type: ignore[no-untyped-def]
    """The substream (640x360) is analysed; the snapshot is drawn on the main stream (here a 1280x720
    clip served as the camera's main stream), so its size shows which stream it came from."""
    import cv2

    from bus import SnapshotStore
    from tests.conftest import HIGHWAY

    server = rtsp_server({"/main": HIGHWAY, "/sub": RESIDENTIAL})
    config = load_config(DATA / "residential.yaml")
    camera = config.cameras[0]
    source = camera.source.model_copy(update={"url": server.url("/main"), "analysis_url": server.url("/sub")})
    settings = config.model_copy(update={
        "cameras": [camera.model_copy(update={"source": source})],
        "rules": RulesConfig.model_validate({"illegal_parking_motor": {"dwell_s": 4, "clear_s": 10}}),
    })
    received = []
    store = SnapshotStore(tmp_path / "media")
    worker = Worker(settings, received.extend, store, detector)
    worker.start()
    try:
        wait_until(lambda: any(e.state is EventState.START for e in received), timeout_s=40, what="a start")
    finally:
        worker.stop()
        worker.join(15)
    start = next(e for e in received if e.state is EventState.START)
    picture = cv2.imread(str(store.resolve(start.snapshot)))
    assert picture.shape[:2] == (720, 1280)
    assert worker.feeds["resi-1"].health.width == 640  # analysed on the substream
