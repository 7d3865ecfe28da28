"""Camera-verified closure for a class the detector cannot see: the worker's check reads the same zone readings
(the segmenter's shares) as the rule that raised the case. A standing-water case resolved while the street is
still flooded reopens; one in a dry part of the same picture closes."""

from __future__ import annotations

from pathlib import Path

import av
import cv2

from bus import BusConfig
from settings import load_config
from tests.api_fixture import Api
from tests.conftest import ASSETS
from tests.e2e.conftest import DATA, verifying_worker
from tests.helpers import make_event, wait_until
from worker import CameraConfig, SchedulerConfig
from zones import ZoneConfig

STREET = ZoneConfig(id="street", kind="road", name="积水路段 / flooded street", classes=["standing_water"],
                    polygon=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)])
ROOFS = ZoneConfig(id="roofs", kind="road", name="屋顶 / roofs", classes=["standing_water"],
                   polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 0.2), (0.0, 0.2)])


def _still_clip(picture: Path, out: Path, seconds: int = 6, fps: int = 5) -> Path:
    """A fixed camera looking at one photo: H.264 frames of it, as a camera would send them."""
    image = cv2.imread(str(picture))
    assert image is not None
    height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        frame = av.VideoFrame.from_ndarray(image[:height, :width], format="bgr24")
        for _ in range(seconds * fps):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out


def _verified(api: Api, case_id: int) -> dict:
    wait_until(lambda: api.get(f"/api/cases/{case_id}").json()["verification"] != "pending", timeout_s=180,
               what=f"case {case_id}'s camera check")
    return api.get(f"/api/cases/{case_id}").json()


def test_a_flooded_street_resolved_too_early_reopens_and_a_dry_zone_closes(
    detector, redis_bus: BusConfig, tmp_path: Path, make_api
):  # type: ignore[no-untyped-def]
    clip = _still_clip(ASSETS / "images" / "flooded-street.jpg", tmp_path / "flood.mp4")
    camera = CameraConfig.model_validate({"id": "flood-1", "source": {"url": str(clip), "analysis_fps": 2,
                                                                      "loop": True}})
    camera = camera.model_copy(update={"zones": [STREET, ROOFS]})
    settings = load_config(DATA / "residential.yaml")
    settings = settings.model_copy(update={
        "cameras": [camera], "scheduler": SchedulerConfig(health_every_s=0.5, snapshot_every_s=1)})
    api: Api = make_api(cameras=[camera], verification={"frames": 6, "present_share": 0.5, "timeout_s": 600})
    with verifying_worker(settings, redis_bus, detector, tmp_path / "media") as (_worker, listener):
        wait_until(lambda: listener.ready.is_set()
                   and api.get("/api/cameras/flood-1").json()["state"] == "online", timeout_s=120,
                   what="the camera online")
        for zone in ("street", "roofs"):  # cases as the presence rule raises them, from zone readings
            api.publish_and_wait([make_event("flood-1", zone, "standing_water", 1.0, zone_kind="road",
                                             label="zone evidence")])
        cases = {c["zone_id"]: c["id"] for c in api.cases()}
        for case_id in cases.values():
            for step in ("confirmed", "dispatched", "resolved"):
                assert api.move(case_id, step).status_code == 200

        flooded = _verified(api, cases["street"])
        assert flooded["status"] == "reopened" and flooded["verification"] == "failed"
        last = flooded["timeline"][-1]
        assert last["actor"] == "camera" and last["action"] == "reopened"
        assert "segmenter" in last["note"] and "water" in last["note"], last
        assert last["details"]["present_frames"] >= 4 and last["details"]["frames"] == 6

        dry = _verified(api, cases["roofs"])
        assert dry["status"] == "closed" and dry["verification"] == "passed"
        assert dry["timeline"][-1]["details"]["present_frames"] == 0
