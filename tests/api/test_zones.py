"""The zone API: bad zones refused field by field with nothing saved, versions kept, diffed and restored, the
configuration seeding the store once, calibrations and map zones reaching the camera's zone set on Redis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import redis

from bus.zonesync import read_zone_set, zones_key
from tests.api_fixture import Api
from tests.conftest import RESIDENTIAL
from tests.zones.test_homography import PAIRS, ground
from worker.config import CameraConfig
from zones import ZoneConfig

CURB = {"id": "curb", "kind": "no_parking", "name": "北侧路沿", "polygon": [[0.1, 0.3], [0.5, 0.2], [0.5, 0.4]]}
CAMERA = CameraConfig(id="cam-z", name="测试", source={"url": str(RESIDENTIAL)},
                      zones=[ZoneConfig.model_validate(CURB)])
BASE = "/api/cameras/cam-z/zones"


@pytest.fixture
def zoned(make_api) -> Api:  # type: ignore[no-untyped-def]
    return make_api(cameras=[CAMERA], verification={"enabled": False})


def _post(api: Api, body: dict[str, Any], role: str = "operator") -> Any:
    return api.client.post(BASE, json=body, headers=api.auth(role))


BAD_ZONES = [
    ({"polygon": [[0.1, 0.1], [0.2, 0.2]]}, "polygon", "at least 3 points"),
    ({"polygon": [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]}, "polygon", "edges cross"),
    ({"polygon": [[10, 10], [600, 10], [600, 300]]}, "polygon", "0..1"),
    ({"kind": "playground"}, "kind", "Input should be"),
    ({"classes": ["littering"]}, "classes", "unknown class"),
    ({"schedule": [{"start": "09:00", "end": "08:00"}]}, "schedule", "must be after"),
    ({"schedule": [{"start": "25:99", "end": "26:00"}]}, "schedule", "time"),
    ({"overrides": {"illegal_parking_motor": {"dwell_s": -5}}}, "overrides", "greater than 0"),
    ({"overrides": {"illegal_parking_motor": {"min_confidence": 1.5}}}, "overrides", "less than or equal to 1"),
    ({"overrides": {"standing_water": {"dwell_s": 5}}}, "overrides", "does not watch"),
    ({"id": "has space"}, "id", "pattern"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_ZONES, ids=[b[1] + "-" + b[2] for b in BAD_ZONES])
def test_a_bad_zone_is_a_422_naming_its_field_and_nothing_is_saved(zoned: Api, change: dict, field: str,
                                                                   message: str):
    body = {**CURB, "id": "new-zone", **change}
    for reply in (_post(zoned, body),
                  zoned.client.put(f"{BASE}/curb", json={**body, "id": "curb"} if field != "id" else body,
                                   headers=zoned.auth("operator"))):
        assert reply.status_code == 422, reply.text
        errors = reply.json()["detail"]
        assert any(field in [str(part) for part in e["loc"]] and message in e["msg"] for e in errors), errors
    assert [z["zone"]["id"] for z in zoned.get(BASE).json()] == ["curb"]
    assert len(zoned.get(f"{BASE}/curb/versions").json()) == 1


def test_versions_are_kept_diffed_and_restored_and_only_operators_change_zones(zoned: Api):
    assert zoned.get(BASE).json()[0]["updated_by"] == "configuration"  # seeded from the file
    created = _post(zoned, {**CURB, "id": "gate", "kind": "school"})
    assert created.status_code == 201 and created.json()["version"] == 1
    assert _post(zoned, {**CURB, "id": "gate"}).status_code == 409
    assert _post(zoned, {**CURB, "id": "gate-2"}, role="dispatcher").status_code == 403
    moved = {**CURB, "id": "gate", "kind": "school", "polygon": [[0.1, 0.5], [0.6, 0.5], [0.6, 0.9]],
             "overrides": {"illegal_parking_motor": {"dwell_s": 60}}}
    assert zoned.client.put(f"{BASE}/gate", json=moved, headers=zoned.auth("operator")).json()["version"] == 2
    changes = zoned.get(f"{BASE}/gate/diff", params={"from": 1, "to": 2}).json()["changes"]
    assert {c["field"] for c in changes} == {"polygon", "overrides"}
    assert zoned.client.delete(f"{BASE}/gate", headers=zoned.auth("operator")).status_code == 204
    assert zoned.get(f"{BASE}/gate").status_code == 404
    history = zoned.get(f"{BASE}/gate/versions").json()
    assert [(v["version"], v["action"], v["author"]) for v in history] == [
        (1, "created", "operator"), (2, "updated", "operator"), (3, "deleted", "operator")]
    restored = zoned.client.post(f"{BASE}/gate/versions/1/restore", headers=zoned.auth("operator"))
    assert restored.status_code == 200 and restored.json()["version"] == 4
    assert restored.json()["zone"]["polygon"] == CURB["polygon"]
    assert zoned.client.post(f"{BASE}/gate/versions/3/restore", headers=zoned.auth("operator")).status_code == 404
    assert zoned.get("/api/cameras/nowhere/zones").status_code == 404


def test_two_operators_editing_one_zone_the_second_save_is_refused_not_lost(zoned: Api):
    etag = zoned.get(f"{BASE}/curb").headers["ETag"]
    assert etag == '"1"'
    operator = zoned.auth("operator")
    first = zoned.client.put(f"{BASE}/curb", json={**CURB, "name": "甲"}, headers={**operator, "If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    second = zoned.client.put(f"{BASE}/curb", json={**CURB, "name": "乙"}, headers={**operator, "If-Match": etag})
    assert second.status_code == 412 and "version 2, not 1" in second.json()["detail"]
    assert zoned.get(f"{BASE}/curb").json()["zone"]["name"] == "甲"  # the first save stands
    stale_delete = zoned.client.delete(f"{BASE}/curb", headers={**operator, "If-Match": 'W/"1"'})
    assert stale_delete.status_code == 412
    garbled = zoned.client.put(f"{BASE}/curb", json=CURB, headers={**operator, "If-Match": "yesterday"})
    assert garbled.status_code == 400 and "If-Match" in garbled.json()["detail"]
    assert zoned.client.put(f"{BASE}/curb", json=CURB, headers=operator).status_code == 200  # no If-Match: no check

    assert zoned.get("/api/cameras/cam-z/deleted-zones").json() == []
    assert zoned.client.delete(f"{BASE}/curb", headers={**operator, "If-Match": '"3"'}).status_code == 204
    deleted = zoned.get("/api/cameras/cam-z/deleted-zones").json()
    assert [(d["zone_id"], d["version"], d["deleted_by"]) for d in deleted] == [("curb", 4, "operator")]
    assert zoned.client.post(f"{BASE}/curb/versions/3/restore", headers=operator).status_code == 200
    assert zoned.get("/api/cameras/cam-z/deleted-zones").json() == []  # back, so no longer deleted


def test_a_save_reaches_the_camera_zone_set_on_redis_and_the_store_wins_over_the_file(zoned: Api, make_api):
    client = redis.Redis.from_url(zoned.bus.redis_url)
    _post(zoned, {**CURB, "id": "gate", "kind": "school"})
    zone_set = read_zone_set(client, zoned.bus, "cam-z")
    assert zone_set is not None and [z.id for z in zone_set.zones] == ["curb", "gate"]
    again = make_api(cameras=[CAMERA.model_copy(update={"zones": []})])  # the file no longer has zones
    assert [z["zone"]["id"] for z in again.get(BASE).json()] == ["curb", "gate"]
    client.delete(zones_key(zoned.bus))  # Redis restarted without its data: the API publishes again
    assert zoned.app.state.zone_sync.resync()
    assert read_zone_set(client, zoned.bus, "cam-z") is not None


def test_a_calibration_and_a_map_zone_put_a_school_into_the_camera_with_positions(zoned: Api):
    lonlat = ground(np.array(PAIRS))
    pairs = [{"image": list(p), "map": list(m)} for p, m in zip(PAIRS, lonlat, strict=True)]
    bad = zoned.client.put("/api/cameras/cam-z/calibration", json={"pairs": pairs[:3]},
                           headers=zoned.auth("operator"))
    assert bad.status_code == 422 and "at least 4" in bad.text
    saved = zoned.client.put("/api/cameras/cam-z/calibration", json={"pairs": pairs}, headers=zoned.auth("operator"))
    assert saved.status_code == 200 and saved.json()["version"] == 1
    gate = ground(np.array([(0.30, 0.60), (0.70, 0.60), (0.70, 0.85), (0.30, 0.85)]))
    ring = [list(p) for p in gate] + [list(gate[0])]
    school = {"id": "school-1", "name": "实验小学", "geometry": {"type": "Polygon", "coordinates": [ring]},
              "zone": {"kind": "school", "classes": ["illegal_parking_motor"]}}
    assert zoned.client.post("/api/map/zones", json=school, headers=zoned.auth("operator")).status_code == 201
    assert zoned.get("/api/map/zones").json()["features"][0]["properties"]["kind"] == "school"
    effective = zoned.get("/api/cameras/cam-z/zone-set").json()
    projected = next(z for z in effective["zones"] if z["id"] == "map-school-1")
    xs, ys = zip(*projected["polygon"], strict=True)
    assert min(xs) > 0.29 and max(xs) < 0.71 and min(ys) > 0.59 and max(ys) < 0.86
    assert effective["homography"] is not None
    on_redis = read_zone_set(redis.Redis.from_url(zoned.bus.redis_url), zoned.bus, "cam-z")
    assert on_redis is not None and "map-school-1" in [z.id for z in on_redis.zones]
