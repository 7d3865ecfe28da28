"""The zone's clear level in a real browser against the real API: the camera wall lists each zone's state as the
worker reports it with the camera's health (through the real HealthPublisher), and the zone editor shows it for
the selected zone with the "this zone is clear now" button for operators, never for a viewer."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from api.services.lifecycle import Role
from bus.health import HealthPublisher
from tests.web.conftest import Dashboard, Watched
from tests.web.test_dashboard import log_in
from tests.web.test_labels_and_map import Api, open_zone

ROAD = {"id": "road", "name": "校门前路面 road", "kind": "road", "classes": ["standing_water"],
        "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]}
COVERAGE = [{"zone_id": "road", "class": "standing_water", "state": "calibrated", "frames": 9, "labels": 0,
             "sources": {"calibration": 9, "label": 0, "auto": 3}, "levels": {"water": 0.31}},
            {"zone_id": "gate", "class": "standing_water", "state": "uncalibrated", "frames": 0, "labels": 0,
             "sources": {}, "levels": {}}]


def _report(dashboard: Dashboard) -> None:
    publisher = HealthPublisher(dashboard.bus, worker_name="test-worker")
    publisher.coverage = lambda camera_id: COVERAGE if camera_id == "cam-school" else []
    publisher([{"camera_id": "cam-school", "state": "online", "snapshot": dashboard.snapshot("cam-school"),
                "reported_at": time.time()}])


def test_the_wall_and_the_editor_show_each_zones_state_and_operators_get_the_button(page: Watched,
                                                                                      dashboard: Dashboard):
    Api(dashboard, Role.OPERATOR)("POST", "/api/cameras/cam-school/zones", 201, json=ROAD)
    _report(dashboard)
    log_in(page, dashboard, Role.VIEWER)
    browser = page.page
    browser.click(".nav a[data-view=cameras]")
    states = browser.locator(".camera[data-camera-id=cam-school] .coverage li")
    expect(states).to_have_count(2)
    expect(states.nth(0)).to_have_text("road · standing_water: 已校准（9 帧）")
    expect(states.nth(1)).to_have_attribute("data-state", "uncalibrated")
    expect(states.nth(1)).to_contain_text("未校准")

    browser.goto(f"{dashboard.url}/#/cameras/cam-school/zones")
    browser.click("#zone-list li[data-zone-id=road] button.zone-pick")
    expect(browser.locator("#zone-coverage li[data-cls=standing_water]")).to_contain_text("已校准（9 帧）")
    expect(browser.locator("#zone-calibrate")).to_have_count(0)
    browser.click("#logout")
    expect(browser.locator("#login-username")).to_be_visible()

    operator = open_zone(page, dashboard, Role.OPERATOR, "cam-school", "road")
    expect(operator.locator("#zone-coverage li[data-cls=standing_water]")).to_contain_text("其中 3 帧为自动学习")
    expect(operator.locator("#zone-calibrate")).to_have_text("此区域现在无问题（校准）")
    page.screenshot("zone-calibrate")
