"""Labels and zones on the map in a real browser against the real API (uvicorn, Redis, SQLite): a dispatcher labels
a zone's current view from the zone editor and a case's picture from the case view, and finds the labels through
the API; a viewer sees the counts but no button; the dashboard map draws a calibrated camera's zone (dashed) and a
zone drawn on the map (solid) where the API puts them, with their popups and a layer toggle.
Screenshots land in var/screenshots/."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import cv2
import httpx
from playwright.sync_api import expect

from api.services.lifecycle import Role
from bus.health import health_key
from bus.snapshots import clean_of
from tests.web.conftest import Dashboard, Watched
from tests.web.test_dashboard import log_in

MOTOR, NONMOTOR = "illegal_parking_motor", "illegal_parking_nonmotor"
KERB = {"id": "kerb", "name": "校门外路边 kerb", "kind": "no_parking", "classes": [MOTOR, NONMOTOR],
        "polygon": [[0.05, 0.55], [0.6, 0.55], [0.6, 0.95], [0.05, 0.95]]}
# What a 409 or 422 logs in the console; each is an answer the page was meant to get and shows in words.
REFUSED = re.compile(r"^Failed to load resource: the server responded with a status of (409|422) ")


class Api:
    """The API over HTTP as `role`, with a bearer token from the login endpoint (what the dashboard does)."""

    def __init__(self, dashboard: Dashboard, role: Role) -> None:
        self.username, password = dashboard.account(role)
        self.client = httpx.Client(base_url=dashboard.url, timeout=10)
        reply = self.client.post("/api/auth/token", data={"username": self.username, "password": password})
        reply.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"

    def __call__(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        reply = self.client.request(method, path, **kwargs)
        assert reply.status_code == expected, (method, path, reply.status_code, reply.text)
        return reply.json() if reply.content else None


def show(dashboard: Dashboard, camera: str) -> None:
    """What a worker does: write the camera's latest frame and report it with the camera's health in Redis."""
    relative = dashboard.snapshot(camera)  # a frame of the residential street, as <media>/snapshots/<camera>.jpg
    assert relative == f"snapshots/{camera}.jpg" and cv2.imread(str(dashboard.media_dir / relative)) is not None
    dashboard.app.state.redis.hset(health_key(dashboard.bus), camera, json.dumps(
        {"camera_id": camera, "state": "online", "snapshot": relative, "reported_at": time.time()}))


def open_zone(watched: Watched, dashboard: Dashboard, role: Role, camera: str, zone: str) -> Any:
    """Log in, open the camera's zone editor and select the zone in the list."""
    log_in(watched, dashboard, role)
    page = watched.page
    page.goto(f"{dashboard.url}/#/cameras/{camera}/zones")
    page.click(f"#zone-list li[data-zone-id={zone}] button.zone-pick")
    expect(page.locator(f"#labels[data-zone-id={zone}]")).to_be_visible()
    return page


def counts(page: Any, cls: str) -> tuple[str, str]:
    row = page.locator(f"#labels-table tr[data-cls={cls}]")
    return row.locator("td[data-count=problem]").inner_text(), row.locator("td[data-count=clear]").inner_text()


def test_a_dispatcher_labels_the_current_view_from_the_zone_editor(page: Watched, dashboard: Dashboard):
    operator = Api(dashboard, Role.OPERATOR)
    operator("POST", "/api/cameras/cam-school/zones", 201, json=KERB)
    operator("POST", "/api/cameras/cam-hospital/zones", 201, json={**KERB, "id": "door", "name": "医院门口 door"})
    show(dashboard, "cam-school")  # cam-hospital has not sent a picture yet

    browser = open_zone(page, dashboard, Role.DISPATCHER, "cam-school", "kerb")
    expect(browser.locator("#labels-table tbody tr")).to_have_count(2)  # one row per class the zone watches
    expect(browser.locator("#labels-table tr[data-cls=illegal_parking_motor] td[data-count=problem]")).to_have_text("0")
    expect(browser.locator("#labels-recent")).to_contain_text("这个区域还没有标注")
    status = browser.locator("#labels-status")

    browser.click(f"#labels-table tr[data-cls={MOTOR}] button[data-positive=true]")
    expect(status).to_have_text(re.compile(r"^已标注 #\d+：机动车乱停放 · 有问题$"))
    expect(browser.locator(f"#labels-table tr[data-cls={MOTOR}] td[data-count=problem]")).to_have_text("1")
    browser.click(f"#labels-table tr[data-cls={MOTOR}] button[data-positive=false]")
    expect(browser.locator(f"#labels-table tr[data-cls={MOTOR}] td[data-count=clear]")).to_have_text("1")
    browser.click(f"#labels-table tr[data-cls={NONMOTOR}] button[data-positive=false]")
    expect(browser.locator(f"#labels-table tr[data-cls={NONMOTOR}] td[data-count=clear]")).to_have_text("1")
    assert counts(browser, MOTOR) == ("1", "1") and counts(browser, NONMOTOR) == ("0", "1")

    listed = operator("GET", "/api/cameras/cam-school/labels", params={"zone_id": "kerb"})
    made = [(x["class"], x["positive"], x["source"], x["case_id"]) for x in reversed(listed["labels"])]
    assert made == [(MOTOR, True, "operator", None), (MOTOR, False, "operator", None),
                    (NONMOTOR, False, "operator", None)]
    assert {x["author"] for x in listed["labels"]} == {page.page.locator("#user-name").inner_text()}
    assert listed["counts"] == {f"kerb/{MOTOR}": {"problem": 1, "clear": 1},
                                f"kerb/{NONMOTOR}": {"problem": 0, "clear": 1}}
    for label in listed["labels"]:  # each label keeps its own copy of the view it was made on
        assert label["image_url"].startswith("/media/") and label["image_url"] != "/media/snapshots/cam-school.jpg"
        assert (dashboard.media_dir / label["image_url"].removeprefix("/media/")).is_file()

    recent = browser.locator("#labels-recent li.label-item")
    expect(recent).to_have_count(3)
    expect(recent.first).to_have_attribute("data-label-id", str(listed["labels"][0]["id"]))  # newest first
    expect(recent.first).to_contain_text("无问题")
    for thumb in recent.locator("img.label-thumb").element_handles():  # the pictures load with the session
        browser.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb)
    page.screenshot("labels-zone-editor")

    # A camera without a picture: the API's 409 in words, and nothing stored.
    browser.goto(f"{dashboard.url}/#/cameras/cam-hospital/zones")
    browser.click("#zone-list li[data-zone-id=door] button.zone-pick")
    browser.click(f"#labels-table tr[data-cls={MOTOR}] button[data-positive=true]")
    expect(browser.locator("#labels-status")).to_have_text(
        "未标注：摄像头 cam-hospital 尚无画面 / no snapshot from camera cam-hospital yet")
    expect(browser.locator("#labels-status")).to_have_class(re.compile(r"\berror\b"))
    assert operator("GET", "/api/cameras/cam-hospital/labels")["labels"] == []
    assert [e for e in page.errors if not REFUSED.match(e)] == []


def test_a_viewer_sees_the_counts_but_no_label_button(page: Watched, dashboard: Dashboard):
    operator = Api(dashboard, Role.OPERATOR)
    operator("POST", "/api/cameras/cam-school/zones", 201, json=KERB)
    show(dashboard, "cam-school")
    dispatcher = Api(dashboard, Role.DISPATCHER)
    for positive in (True, True, False):
        dispatcher("POST", "/api/cameras/cam-school/zones/kerb/labels", 201,
                   json={"class": MOTOR, "positive": positive})
    viewer = Api(dashboard, Role.VIEWER)  # the API refuses a viewer too, whatever the page shows
    viewer("POST", "/api/cameras/cam-school/zones/kerb/labels", 403, json={"class": MOTOR, "positive": True})

    browser = open_zone(page, dashboard, Role.VIEWER, "cam-school", "kerb")
    expect(browser.locator(f"#labels-table tr[data-cls={MOTOR}] td[data-count=problem]")).to_have_text("2")
    assert counts(browser, MOTOR) == ("2", "1") and counts(browser, NONMOTOR) == ("0", "0")
    expect(browser.locator("#labels-recent li.label-item")).to_have_count(3)
    expect(browser.locator("#labels button")).to_have_count(0)
    expect(browser.locator("#labels")).to_contain_text("调度员、运维员和管理员可以标注")
    page.screenshot("labels-viewer")

    dashboard.publish_and_wait(dashboard.event(zone="kerb", problem=MOTOR, zone_kind="no_parking"))
    browser.goto(f"{dashboard.url}/#/cases/1")
    expect(browser.locator("#timeline")).to_be_visible()
    expect(browser.locator("#case-labels")).to_have_count(0)
    assert page.errors == []


def test_a_dispatcher_labels_a_cases_picture_from_the_case_view(page: Watched, dashboard: Dashboard):
    operator = Api(dashboard, Role.OPERATOR)
    operator("POST", "/api/cameras/cam-school/zones", 201, json=KERB)
    why = ["检测 detector: car 0.91 in zone for 62 s", "分割 segmenter: road 40% of zone"]
    event = dashboard.event(zone="kerb", problem=MOTOR, zone_kind="no_parking", zone_name=KERB["name"], reasons=why)
    browser = page.page
    log_in(page, dashboard, Role.DISPATCHER)
    dashboard.publish(event)
    alert = browser.locator("#alert-list .alert[data-case-id='1']")
    expect(alert.locator(".alert-reason")).to_have_text(why[0])  # the live list shows the first reason

    alert.click()
    expect(browser.locator("ul.reasons li")).to_have_text(why)
    panel = browser.locator("#case-labels")
    expect(panel).to_contain_text("用此画面标注")
    panel.locator("button[data-positive=true]").click()
    expect(browser.locator("#case-label-status")).to_have_text(re.compile(r"^已标注 #\d+：有问题$"))
    page.screenshot("labels-case")

    kase = operator("GET", "/api/cases/1")
    [label] = operator("GET", "/api/cameras/cam-school/labels", params={"zone_id": "kerb"})["labels"]
    assert (label["class"], label["positive"], label["case_id"], label["source"]) == (MOTOR, True, 1, "operator")
    assert label["image_url"] == "/media/" + clean_of(kase["evidence_url"].removeprefix("/media/"))  # no boxes on it
    assert f"#{label['id']}" in browser.locator("#case-label-status").inner_text()

    # A case whose clean picture is gone: the API's 409 in words, nothing stored.
    second = dashboard.event(zone="kerb", problem=NONMOTOR, zone_kind="no_parking", start=500.0)
    (dashboard.media_dir / clean_of(second.snapshot)).unlink()
    dashboard.publish_and_wait(second)
    browser.goto(f"{dashboard.url}/#/cases/2")
    browser.locator("#case-labels button[data-positive=false]").click()
    expect(browser.locator("#case-label-status")).to_have_text(
        "未标注：案件 2 没有原始画面 / case 2 has no clean picture to label")
    assert len(operator("GET", "/api/cameras/cam-school/labels")["labels"]) == 1
    assert [e for e in page.errors if not REFUSED.match(e)] == []


# cam-quiet (北街, at 116.3990, 39.9322) calibrated: its picture's corners on a small rectangle of the street.
PAIRS = [{"image": [0.0, 0.0], "map": [116.3986, 39.9327]}, {"image": [1.0, 0.0], "map": [116.3998, 39.9327]},
         {"image": [1.0, 1.0], "map": [116.3998, 39.9319]}, {"image": [0.0, 1.0], "map": [116.3986, 39.9319]}]
GATE = {"id": "gate", "name": "北街 学校侧门 side gate", "kind": "school",
        "polygon": [[0.5, 0.2], [0.98, 0.2], [0.98, 0.98], [0.5, 0.98]]}
MARKET = {"id": "market", "name": "早市 morning market", "zone": {"kind": "no_vending"},
          "geometry": {"type": "Polygon", "coordinates": [[[116.4012, 39.9318], [116.4024, 39.9318],
                                                           [116.4024, 39.9326], [116.4012, 39.9326],
                                                           [116.4012, 39.9318]]]}}


def test_the_map_draws_a_calibrated_cameras_zone_and_a_map_zone(page: Watched, dashboard: Dashboard):
    operator = Api(dashboard, Role.OPERATOR)
    operator("PUT", "/api/cameras/cam-quiet/calibration", json={"pairs": PAIRS})
    operator("POST", "/api/cameras/cam-quiet/zones", 201, json=GATE)
    operator("POST", "/api/map/zones", 201, json=MARKET)
    zones = {f["properties"]["source"]: f for f in operator("GET", "/api/map")["zones"]["features"]}
    assert set(zones) == {"camera", "map"}
    ring = zones["camera"]["geometry"]["coordinates"][0]
    assert abs(min(p[0] for p in ring) - 116.3992) < 1e-5 and abs(max(p[1] for p in ring) - 39.93254) < 1e-5

    browser = page.page
    log_in(page, dashboard, Role.VIEWER)
    browser.click(".nav a[data-view=map]")
    expect(browser.locator("#map.leaflet-container")).to_be_visible()
    camera_zone, map_zone = browser.locator("path.map-zone-camera"), browser.locator("path.map-zone-map")
    expect(camera_zone).to_have_count(1)
    expect(map_zone).to_have_count(1)
    expect(browser.locator("path.layer-kind-school")).to_have_count(1)  # the configured layers are still there
    expect(browser.locator("path.camera-marker")).to_have_count(3)

    # Styled by kind and source: a school thick and dashed (a camera's), no-vending thin and solid (the map's),
    # in the zone editor's colours (styles.css .zk-*).
    colour_of = """k => { const s = document.createElement('span'); s.className = 'zk ' + k; document.body.append(s);
        const c = getComputedStyle(s).getPropertyValue('--zc').trim(); s.remove(); return c; }"""
    school, no_vending = (browser.evaluate(colour_of, k) for k in ("zk-school", "zk-no_vending"))
    assert (school, no_vending) == ("#ffb020", "#b57bff")
    assert camera_zone.get_attribute("stroke") == school and camera_zone.get_attribute("stroke-width") == "4"
    assert camera_zone.get_attribute("stroke-dasharray") == "7 5"
    assert map_zone.get_attribute("stroke") == no_vending and map_zone.get_attribute("stroke-width") == "2"
    assert map_zone.get_attribute("stroke-dasharray") is None

    # Drawn where the API puts them: the camera markers (at their configured positions) give the scale.
    school_cam, quiet_cam = (centre(browser.locator("path.camera-marker").nth(i).bounding_box()) for i in (0, 2))
    to_x = lambda lon: school_cam[0] + (lon - 116.3976) * (quiet_cam[0] - school_cam[0]) / (116.3990 - 116.3976)  # noqa: E731
    to_y = lambda lat: school_cam[1] + (lat - 39.9304) * (quiet_cam[1] - school_cam[1]) / (39.9322 - 39.9304)  # noqa: E731
    for path, feature in ((camera_zone, zones["camera"]), (map_zone, zones["map"])):
        points = feature["geometry"]["coordinates"][0]
        box = path.bounding_box()
        expected = (to_x(min(p[0] for p in points)), to_y(max(p[1] for p in points)),
                    to_x(max(p[0] for p in points)), to_y(min(p[1] for p in points)))
        drawn = (box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"])
        assert all(abs(a - b) < 4 for a, b in zip(drawn, expected, strict=True)), (drawn, expected)

    camera_zone.click()
    popup = browser.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("北街 学校侧门 side gate")
    expect(popup).to_contain_text("学校 · 摄像头区域（按标定投影）")
    expect(popup).to_contain_text("摄像头 北街 North street (cam-quiet)")
    expect(popup.locator("a")).to_have_attribute("href", "#/cameras/cam-quiet/zones")
    browser.wait_for_function("() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    page.screenshot("map-zones")  # once the popup has faded in
    map_zone.click()
    expect(browser.locator(".leaflet-popup")).to_have_count(1)  # the first one closed (it fades out first)
    expect(popup).to_contain_text("早市 morning market")
    expect(popup).to_contain_text("禁止摆卖区 · 地图区域")
    expect(popup).not_to_contain_text("cam-quiet")

    control = browser.locator(".leaflet-control-layers label", has_text="摄像头区域")
    control.locator("input").uncheck()
    expect(camera_zone).to_have_count(0)
    expect(map_zone).to_have_count(1)
    control.locator("input").check()
    expect(camera_zone).to_have_count(1)
    assert page.errors == []


def centre(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
