"""Calibration in a minute, then learning by itself, through real parts: the residential clip segmented by the
shared int8 ADE20K model, a real ZoneReader and LabelLearner, the real API route over real Redis.

The residential road reads 7-35 % "water" in its first 16 s and 40-46 % later (dry all along): a level
calibrated on the first part is below the later frames, so quiet frames must raise it, and must not while the
zone has an open episode."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from api.routers import labels as labels_router
from bus.calibration import CalibrationListener
from bus.health import HealthPublisher, health_key
from detector.scene import SceneConfig
from streams import FileSource, Frame, SourceConfig
from tests.api_fixture import Api
from tests.conftest import RESIDENTIAL
from tests.helpers import make_event, wait_until
from worker.calibration import CalibrationConfig
from worker.config import CameraConfig
from worker.labels import LabelLearner
from worker.zone_readings import ClassifierConfig, SceneReadingConfig, ZoneReader
from zones import ZoneConfig

ROAD = ZoneConfig.model_validate({"id": "road", "kind": "road", "classes": ["standing_water"],
                                  "polygon": [[0.0, 0.45], [1.0, 0.45], [1.0, 1.0], [0.0, 1.0]]})
CAMERA = CameraConfig(id="cam-road", source={"url": str(RESIDENTIAL)}, zones=[ROAD])
CALIBRATE = "/api/cameras/cam-road/zones/road/calibrate"
SCENE = SceneReadingConfig(segmenter=SceneConfig(variant="ade20k32-int8", threads=1), every_n_frames=1)


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    """One frame every 2 s of clip time (37 frames), kept: each test replays them in order."""
    return list(FileSource("cam-road", SourceConfig(url=str(RESIDENTIAL), analysis_fps=0.5)))


def _reader(**calibration: object) -> ZoneReader:
    reader = ZoneReader(SCENE, ClassifierConfig(enabled=False),
                        CalibrationConfig(auto_every_s=4, auto_min_recent=3, **calibration))
    reader.set_zones("cam-road", [ROAD])
    return reader


def _level(reader: ZoneReader) -> float | None:
    return reader._cameras["cam-road"].scene.baseline.level("road", "water")


def _auto_samples(reader: ZoneReader) -> int:
    return reader._cameras["cam-road"].scene.baseline.sources("road", "water")["auto"]


def _calibrate_at(reader: ZoneReader, frames: list[Frame], index: int, minutes: float = 5.0):  # type: ignore[no-untyped-def]
    for frame in frames[:index]:
        reader.measure([frame])
    pending = reader.request_calibration("cam-road", "road", minutes)
    assert pending is not None and pending.refused is None and not pending.done.is_set()
    reader.measure([frames[index]])
    assert pending.done.is_set()
    return pending


def test_a_zone_without_a_level_is_uncalibrated_and_never_learns_by_itself(frames: list[Frame]) -> None:
    reader = _reader()
    for frame in frames:
        reader.measure([frame])
    assert _level(reader) is None
    assert [(c["zone_id"], c["class"], c["state"]) for c in reader.coverage("cam-road")] == \
        [("road", "standing_water", "uncalibrated")]


def test_clear_now_learns_the_live_frame_and_the_last_minutes_and_says_calibrated(frames: list[Frame]) -> None:
    reader = _reader(auto_learn=False)
    pending = _calibrate_at(reader, frames, 8)  # frames 0..7 kept, frame 8 is the live one
    assert (pending.frames, pending.recent_frames, pending.frame_ts_s) == (9, 8, frames[8].ts_s)
    assert pending.levels["water"] == pytest.approx(_level(reader))
    assert 0.25 < _level(reader) < 0.45
    [state] = reader.coverage("cam-road")
    assert (state["state"], state["frames"], state["sources"]["calibration"]) == ("calibrated", 9, 9)

    only_recent = _reader(auto_learn=False)
    assert _calibrate_at(only_recent, frames, 8, minutes=0.1).frames == 4  # 6 s back: 3 kept frames and the live one


def test_quiet_frames_raise_the_level_but_never_during_an_open_episode(frames: list[Frame]) -> None:
    reader = _reader()
    _calibrate_at(reader, frames, 8)
    calibrated = _level(reader)
    assert calibrated is not None
    start = make_event("cam-road", "road", "standing_water", frames[9].ts_s, zone_kind="road")
    reader.observe("cam-road", [start])
    refused = reader.request_calibration("cam-road", "road", 5)
    assert refused is not None and "open episode of standing_water" in (refused.refused or "")
    for frame in frames[9:20]:
        reader.measure([frame])
    assert _auto_samples(reader) == 0 and _level(reader) == calibrated

    reader.observe("cam-road", [make_event("cam-road", "road", "standing_water", frames[9].ts_s, state="end",
                                           zone_kind="road")])
    for frame in frames[20:]:
        reader.measure([frame])
    assert _auto_samples(reader) >= 3  # one per 4 s of frame time at most: 17 frames, 2 s apart
    assert _level(reader) > calibrated + 0.03  # the later road (40-46 %) pulled the level up
    assert reader.coverage("cam-road")[0]["sources"]["auto"] == _auto_samples(reader)


def test_a_problem_label_stops_learning_for_its_window(frames: list[Frame]) -> None:
    reader = _reader()
    _calibrate_at(reader, frames, 8)
    reader.note_problem_label("cam-road", "road")
    for frame in frames[9:]:
        reader.measure([frame])
    assert _auto_samples(reader) == 0  # 30 minutes of frame time by default: the clip is 74 s


# The route, through Redis, to a worker's learner fed the clip.


@pytest.fixture
def routed(make_api) -> Api:  # type: ignore[no-untyped-def]
    return make_api(cameras=[CAMERA], verification={"enabled": False})


@pytest.fixture
def worker(routed: Api, tmp_path: Path) -> Iterator[LabelLearner]:
    reader = _reader(auto_learn=False)
    learner = LabelLearner(reader, routed.app.state.snapshots.root, tmp_path / "heads", {"cam-road"})
    stop = threading.Event()
    listener = CalibrationListener(routed.bus, learner.calibrate, stop)
    listener.start()
    listener.ready.wait(10)
    yield learner
    stop.set()
    listener.join(timeout=5)


def _post(api: Api, role: str = "operator", **body: object):  # type: ignore[no-untyped-def]
    return api.client.post(CALIBRATE, json=body or None, headers=api.auth(role))


def test_the_route_calibrates_through_the_worker_and_is_kept(routed: Api, worker: LabelLearner,
                                                             frames: list[Frame], tmp_path: Path) -> None:
    reader = worker.source
    for frame in frames[:8]:
        reader.measure([frame])
    replies: list[object] = []
    thread = threading.Thread(target=lambda: replies.append(_post(routed, minutes=5)))
    thread.start()
    wait_until(lambda: bool(reader._cameras["cam-road"].quiet.pending), what="the worker to take the request")
    reader.measure([frames[8]])
    thread.join(60)
    [reply] = replies
    assert reply.status_code == 200, reply.text  # type: ignore[attr-defined]
    body = reply.json()  # type: ignore[attr-defined]
    assert (body["frames"], body["recent_frames"]) == (9, 8) and body["levels"]["water"] > 0.2
    assert reader.coverage("cam-road")[0]["state"] == "calibrated"

    again = ZoneReader(SCENE, ClassifierConfig(enabled=False))  # a restarted worker keeps the level
    again.set_zones("cam-road", [ROAD])
    LabelLearner(again, routed.app.state.snapshots.root, tmp_path / "heads", {"cam-road"}).load()
    assert again.coverage("cam-road")[0]["frames"] == 9


def test_the_route_refuses_the_wrong_roles_bad_input_and_busy_zones(routed: Api, worker: LabelLearner,
                                                                    frames: list[Frame]) -> None:
    assert _post(routed, "viewer").status_code == 403
    assert _post(routed, "dispatcher").status_code == 403
    bad = _post(routed, minutes=0)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "minutes"
    assert _post(routed, extra=1).status_code == 422
    assert routed.client.post("/api/cameras/cam-road/zones/nope/calibrate",
                              headers=routed.auth("operator")).status_code == 404

    worker.source.measure([frames[0]])
    worker.source.observe("cam-road", [make_event("cam-road", "road", "standing_water", frames[0].ts_s,
                                                  zone_kind="road")])
    busy = _post(routed, "admin")  # the worker answers at once: the zone has an open episode
    assert busy.status_code == 409 and "open episode of standing_water" in busy.json()["detail"]

    routed.publish_and_wait([make_event("cam-road", "road", "standing_water", 10.0, zone_kind="road")])
    case = _post(routed)
    assert case.status_code == 409 and "open case" in case.json()["detail"]



def test_a_recent_problem_label_is_refused_and_no_worker_is_a_504(routed: Api, frames: list[Frame],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(labels_router, "CALIBRATE_WAIT_S", 0.5)  # nobody listens: no wait is long enough
    missing = _post(routed)
    assert missing.status_code == 504 and "no worker running camera cam-road" in missing.json()["detail"]

    media = routed.app.state.snapshots.root
    (media / "snapshots").mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(media / "snapshots" / "cam-road.jpg"), frames[0].image)
    routed.app.state.redis.hset(health_key(routed.bus), "cam-road", json.dumps(
        {"camera_id": "cam-road", "state": "online", "snapshot": "snapshots/cam-road.jpg",
         "reported_at": time.time()}))
    label = routed.client.post("/api/cameras/cam-road/zones/road/labels", headers=routed.auth("operator"),
                               json={"class": "standing_water", "positive": True})
    assert label.status_code == 201, label.text
    refused = _post(routed)
    assert refused.status_code == 409 and "labelled as showing a problem" in refused.json()["detail"]


def test_streetwatch_models_lists_each_zones_state_from_camera_health(redis_bus, frames: list[Frame]) -> None:  # type: ignore[no-untyped-def]
    from cli.models_command import _zone_states, render
    from settings import AppConfig
    from zones.coverage import report_for_models

    reader = _reader(auto_learn=False)
    _calibrate_at(reader, frames, 8)
    publisher = HealthPublisher(redis_bus, worker_name="w1")
    publisher.coverage = reader.coverage
    publisher([{"camera_id": "cam-road", "state": "online", "reported_at": time.time()}])
    report = report_for_models([])
    report.zones = _zone_states(AppConfig(bus=redis_bus))
    assert "  cam-road / road / standing_water: 已校准 calibrated (9 frames)" in render(report).splitlines()
