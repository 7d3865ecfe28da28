"""A zone the worker could not use is a 422 naming the field on POST and PUT, and nothing is saved: a name its
events could not carry (it would silence the zone), an override its class's rule never reads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api_fixture import Api
from tests.conftest import RESIDENTIAL
from worker.config import CameraConfig
from zones import ZoneConfig

ROAD = {"id": "road", "kind": "road", "name": "主路", "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]]}
CAMERA = CameraConfig(id="cam-t", source={"url": str(RESIDENTIAL)}, zones=[ZoneConfig.model_validate(ROAD)])
BASE = "/api/cameras/cam-t/zones"

REFUSED = [
    ({"name": "实" * 200}, "name", "at most 128 characters, got 200"),
    ({"name": "主路\x00"}, "name", "control characters"),
    ({"overrides": {"standing_water": {"dwell_s": 5}}}, "overrides", "does not read dwell_s"),
    ({"overrides": {"exposed_garbage": {"clear_s": 5}}}, "overrides", "does not read clear_s"),
]


@pytest.fixture
def api(make_api) -> Api:  # type: ignore[no-untyped-def]
    return make_api(cameras=[CAMERA], verification={"enabled": False})


@pytest.mark.parametrize(("change", "field", "message"), REFUSED, ids=[r[2] for r in REFUSED])
def test_a_zone_the_worker_could_not_use_is_a_422_naming_the_field(api: Api, change: dict[str, Any], field: str,
                                                                  message: str) -> None:
    headers = api.auth("operator")
    for reply in (api.client.post(BASE, json={**ROAD, "id": "new-road", **change}, headers=headers),
                  api.client.put(f"{BASE}/road", json={**ROAD, **change}, headers=headers)):
        assert reply.status_code == 422, reply.text
        errors = reply.json()["detail"]
        assert any(e["loc"][-1] == field and message in e["msg"] for e in errors), errors
    assert [(z["zone"]["id"], z["zone"]["name"], z["version"]) for z in api.get(BASE).json()] == [("road", "主路", 1)]
