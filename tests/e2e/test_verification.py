"""Camera-verified closure on real footage: the worker looks again at the zone of a resolved case.

The residential clip's three cars never leave the far curb: a resolved case there must reopen. A
stretch of road that traffic only passes through must close, with an after-snapshot. A camera no
worker runs leaves the case resolved and visibly not verified.
"""

from __future__ import annotations

from pathlib import Path

from bus import BusConfig
from settings import load_config
from tests.api_fixture import Api
from tests.e2e.conftest import DATA, verifying_worker
from tests.helpers import make_event, wait_until
from worker import SchedulerConfig
from zones import ZoneConfig

OPEN_ROAD = ZoneConfig(id="open-road", kind="no_parking", name="东段车道 / east carriageway",
                       polygon=[(0.55, 0.24), (0.95, 0.10), (0.98, 0.40), (0.62, 0.56)])


def _verified(api: Api, case_id: int) -> dict:
    wait_until(lambda: api.get(f"/api/cases/{case_id}").json()["verification"] != "pending", timeout_s=120,
               what=f"case {case_id}'s camera check")
    return api.get(f"/api/cases/{case_id}").json()


def test_the_camera_reopens_a_problem_still_there_and_closes_one_that_is_gone(
    detector, redis_bus: BusConfig, tmp_path: Path, make_api
):  # type: ignore[no-untyped-def]
    settings = load_config(DATA / "residential.yaml")
    camera = settings.cameras[0]
    camera = camera.model_copy(update={
        "zones": [*camera.zones, OPEN_ROAD],
        "source": camera.source.model_copy(update={"loop": True}),  # the camera keeps watching
    })
    settings = settings.model_copy(update={
        "cameras": [camera], "scheduler": SchedulerConfig(health_every_s=0.5, snapshot_every_s=1)})
    api: Api = make_api(cameras=[camera], verification={"frames": 12, "present_share": 0.5, "timeout_s": 600})
    with verifying_worker(settings, redis_bus, detector, tmp_path / "media") as (_worker, listener):
        wait_until(lambda: any(c["zone_id"] == "far-curb" for c in api.cases()), timeout_s=180,
                   what="the parked cars' case")
        wait_until(lambda: listener.ready.is_set()
                   and api.get("/api/cameras/resi-1").json()["state"] == "online", what="the camera online")
        # A case at the open road, as if an earlier episode had raised it there.
        api.publish_and_wait([make_event("resi-1", "open-road", "illegal_parking_motor", 1.0, zone_kind="no_parking")])
        # And one on a camera that no worker runs.
        api.publish_and_wait([make_event("cam-nowhere", "gate", "illegal_parking_motor", 1.0)])
        cases = {c["zone_id"]: c["id"] for c in api.cases()}
        for case_id in cases.values():
            for step in ("confirmed", "dispatched", "resolved"):
                assert api.move(case_id, step).status_code == 200

        parked = _verified(api, cases["far-curb"])
        assert parked["status"] == "reopened" and parked["verification"] == "failed"
        last = parked["timeline"][-1]
        assert last["actor"] == "camera" and last["action"] == "reopened" and "still there" in last["note"]
        assert last["details"]["present_frames"] >= 10 and last["details"]["frames"] == 12
        assert parked["deadline"] is not None  # reopened work is due again
        assert api.get(parked["after_evidence_url"]).headers["content-type"] == "image/jpeg"

        road = _verified(api, cases["open-road"])
        assert road["status"] == "closed" and road["verification"] == "passed"
        assert road["timeline"][-1]["actor"] == "camera" and road["timeline"][-1]["details"]["present_frames"] <= 2
        after = api.get(road["after_evidence_url"])
        assert after.status_code == 200 and after.content[:2] == b"\xff\xd8"
        assert road["after_evidence_url"] != road["evidence_url"]

        nowhere = api.get(f"/api/cases/{cases['gate']}").json()
        assert nowhere["status"] == "resolved" and nowhere["verification"] == "not_verified"
        assert "not verified" in nowhere["verification_note"]
