"""The worker's second look on a real clip: a far shop-front zone is cropped on every analysed frame, a parking
zone never, a zone reload takes effect at the next frame, and the setting can turn it off."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from detector import Detector, DetectorConfig
from detector.crops import CropConfig
from streams import FileSource, SourceConfig
from tests.conftest import ASSETS
from worker import CameraConfig, WorkerConfig
from worker.pipeline import CameraPipeline
from worker.runner import model_size, run_camera
from worker.second_look import SecondLook
from zones import ZoneConfig

CLIP = ASSETS / "video" / "pedestrian-street-1080p.mp4"
FAR_SHOPS = ZoneConfig(id="far-shops", kind="shop_front", polygon=[(0.35, 0.0), (0.6, 0.0), (0.6, 0.3), (0.35, 0.3)])
KERB = ZoneConfig(id="kerb", kind="no_parking", polygon=[(0.0, 0.9), (0.3, 0.9), (0.3, 1.0), (0.0, 1.0)])


@pytest.fixture(scope="module")
def small_pass() -> Detector:
    return Detector(DetectorConfig(imgsz=320))


def _replay(detector: Detector, zones: list[ZoneConfig], config: CropConfig) -> tuple[int, int]:
    camera = CameraConfig.model_validate({"id": "ped", "source": {"url": str(CLIP), "analysis_fps": 2},
                                          "zones": [z.model_dump() for z in zones]})
    settings = WorkerConfig(cameras=[camera])
    look = SecondLook(config, model_size(detector))
    pipeline = CameraPipeline(camera, settings.rules, settings.tracker, detector.labels)
    run = run_camera(FileSource(camera.id, camera.source), detector, pipeline, lambda _events: None,
                     second_look=look)
    return run.frames, look.crops_run


def test_a_far_shop_front_is_looked_at_again_on_every_frame_and_a_kerb_never(small_pass: Detector):
    frames, crops = _replay(small_pass, [FAR_SHOPS, KERB], CropConfig())
    assert frames >= 6 and crops == frames  # one crop a frame: the far zone's
    assert _replay(small_pass, [KERB], CropConfig()) == (frames, 0)
    assert _replay(small_pass, [FAR_SHOPS, KERB], CropConfig(enabled=False)) == (frames, 0)


def test_the_crop_plan_follows_the_cameras_zones_as_they_are_now(small_pass: Detector):
    look = SecondLook(CropConfig(), 320)
    frame = next(iter(FileSource("ped", SourceConfig(url=str(CLIP), analysis_fps=2))))
    assert [c.zone_id for c in look.crops_for(frame, [FAR_SHOPS, KERB])] == ["far-shops"]
    assert look.crops_for(frame, [KERB]) == []  # reloaded without the shop front: no crop at the next frame


def test_a_second_look_setting_the_code_does_not_read_is_refused():
    with pytest.raises(ValidationError) as caught:
        WorkerConfig.model_validate({"second_look": {"enabled": True, "tiles": 4}})
    assert "tiles" in str(caught.value)
