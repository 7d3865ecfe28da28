"""The zone editor in a real browser against the real API: an operator draws a zone on the camera's picture, fills
its form, runs a what-if that a real worker answers from its recording of the residential street, saves, and finds
the zone through the API; a bad zone shows the API's own field message and saves nothing; versions are compared
and restored; calibration pairs are picked on the picture and the map; a viewer gets no editing controls.
Screenshots land in var/screenshots/."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from playwright.sync_api import expect

from api.orm import MAP_SCOPE
from api.services.lifecycle import Role
from bus import BusConfig, SnapshotStore
from bus.control import ControlListener, publish_result
from settings import AppConfig, load_config
from streams.health import CameraState, SourceHealth
from tests.conftest import RESIDENTIAL
from tests.web.conftest import CAMERAS, Dashboard, Watched, serve_dashboard
from tests.web.test_dashboard import log_in
from tests.web.test_labels_and_map import Api
from worker import Worker
from worker.config import CameraConfig
from worker.control import control_handler
from worker.whatif_jobs import WhatIfRunner
from zones.mapzones import MapZoneConfig

DATA = Path(__file__).resolve().parents[1] / "data"
CLIP_S = 36  # the default model has the three far-kerb cars standing still long enough by 17, 21 and 34 s
NEAR_KERB = [(0.02, 0.62), (0.78, 0.62), (0.78, 0.93), (0.02, 0.93)]


def residential_camera() -> tuple[AppConfig, CameraConfig]:
    settings = load_config(DATA / "residential.yaml")  # resi-1 with its far-curb and carriageway zones
    return settings, settings.cameras[0]


@dataclass
class Recorded:
    """A worker that has analysed (and recorded) the first seconds of the residential street."""

    settings: AppConfig
    worker: Worker
    recordings: Path
    media: Path


@pytest.fixture(scope="session")
def residential_recording(detector: Any, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """Recorded once for the session by a real worker on a cut of the clip (the whole clip takes minutes on CI)."""
    folder = tmp_path_factory.mktemp("recorded")
    clip = folder / "residential.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(RESIDENTIAL), "-t", str(CLIP_S), "-c", "copy", str(clip)],
                   check=True, timeout=60)
    settings, camera = residential_camera()
    camera = camera.model_copy(update={"source": camera.source.model_copy(update={"url": str(clip)})})
    worker = Worker(settings, lambda _events: None, SnapshotStore(folder / "media"), detector, cameras=[camera],
                    recording_dir=folder / "recordings")
    worker.start()
    worker.join(240)
    assert not worker.alive, "the worker did not finish the clip"
    return Recorded(settings, worker, folder / "recordings", folder / "media")


@pytest.fixture
def dashboard(tmp_path: Path, redis_bus: BusConfig) -> Iterator[Dashboard]:
    """The demo cameras and the residential street (its two zones seeded from its configuration), all with a
    picture; the page fixture uses this one in this module."""
    _settings, camera = residential_camera()
    with serve_dashboard(tmp_path, redis_bus, [*CAMERAS, camera]) as served:
        reports = [SourceHealth(c, "rtsp://127.0.0.1:8554/x", state=CameraState.ONLINE, width=640, height=360,
                                last_frame_at=time.time(), snapshot=served.snapshot(c)).to_dict()
                   for c in ("resi-1", "cam-school")]
        served.report_cameras(reports)
        yield served


@pytest.fixture
def whatif_worker(residential_recording: Recorded, dashboard: Dashboard) -> Iterator[Recorded]:
    """The recorded worker listening on this test's control stream and answering what-ifs from its recording."""
    recorded = residential_recording
    client = redis.Redis.from_url(dashboard.bus.redis_url)
    runner = WhatIfRunner(recorded.settings, recorded.recordings, recorded.media,
                          frozenset(recorded.worker.detector.labels),
                          lambda result: publish_result(client, dashboard.bus, result))
    recorded.worker.whatif = runner
    stop = threading.Event()
    listener = ControlListener(dashboard.bus, control_handler(recorded.worker, None), stop, client)
    listener.start()
    assert listener.ready.wait(10)
    try:
        yield recorded
    finally:
        stop.set()
        listener.join(5)
        runner.close()
        recorded.worker.whatif = None
        client.close()


def stage_click(page: Any, x: float, y: float, **options: Any) -> None:
    """A click on the picture at (x, y), given as fractions of its width and height."""
    overlay = page.locator("#zone-overlay")
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"], **options)


def open_editor(watched: Watched, dashboard: Dashboard, role: Role, camera: str) -> Any:
    log_in(watched, dashboard, role)
    page = watched.page
    page.click(".nav a[data-view=cameras]")
    page.click(f".camera[data-camera-id={camera}] a.zone-link")
    expect(page).to_have_url(f"{dashboard.url}/#/cameras/{camera}/zones")
    frame = page.locator("img#zone-frame")
    expect(frame).to_have_attribute("src", re.compile(rf"^/media/snapshots/{camera}\.jpg\?t=\d+$"))  # cache-busted
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=frame.element_handle())
    return page


def api_get(page: Any, path: str) -> Any:
    """A read through the browser's own session (the login cookie)."""
    return page.evaluate("path => fetch(path).then(r => r.json())", path)


def draw(page: Any, corners: list[tuple[float, float]], close_on_first: bool) -> None:
    page.click("#zone-new")
    for x, y in corners:
        stage_click(page, x, y)
    if close_on_first:
        stage_click(page, *corners[0])
    else:
        page.click("#zone-done")
    expect(page.locator("#zone-form")).to_be_visible()


def test_an_operator_draws_a_zone_tries_it_on_the_recording_and_saves_it(page: Watched, dashboard: Dashboard,
                                                                           whatif_worker: Recorded):
    browser = open_editor(page, dashboard, Role.OPERATOR, "resi-1")
    zones = browser.locator("#zone-overlay g.zone")
    expect(zones).to_have_count(2)  # far-curb and carriageway, as configured
    expect(browser.locator("#zone-list li[data-state=saved]")).to_have_count(2)

    stray = (0.40, 0.97)  # a corner too many, removed with a right-click once the zone is closed
    draw(browser, [*NEAR_KERB[:3], stray, NEAR_KERB[3]], close_on_first=True)
    expect(zones).to_have_count(3)
    expect(browser.locator("#zf-polygon")).to_have_text("5 个顶点")
    browser.locator("#zone-overlay circle.vertex").nth(3).click(button="right")
    expect(browser.locator("#zf-polygon")).to_have_text("4 个顶点")
    browser.fill("#zf-id", "near-kerb")
    browser.fill("#zf-name", "近侧路边 near kerb")
    browser.select_option("#zf-kind", "no_parking")
    browser.uncheck("#zf-classes input[value=illegal_parking_nonmotor]")
    browser.fill("input[name='override.illegal_parking_motor.dwell_s']", "15")
    expect(browser.locator("#zone-list li[data-state=new]")).to_contain_text("近侧路边 near kerb")
    expect(browser.locator("#zones-status")).to_have_text("1 处未保存的修改")
    page.screenshot("zone-editor-drawn")
    browser.click("header .lang-toggle")  # the view is drawn again in English: the draft and its selection stay
    expect(browser.locator("#zones-status")).to_have_text("1 unsaved change(s)")
    expect(browser.locator("#zf-id")).to_have_value("near-kerb")
    expect(browser.locator("#zone-new")).to_have_text("New zone")
    browser.click("header .lang-toggle")
    expect(browser.locator("#zones-status")).to_have_text("1 处未保存的修改")

    browser.select_option("#whatif-minutes", "5")
    browser.click("#whatif-run")
    status = browser.locator("#whatif-status")
    expect(status).to_have_attribute("data-state", "done", timeout=120_000)
    counts = browser.locator("#whatif-counts")
    expect(counts.locator("tr[data-zone=near-kerb] td[data-run=saved]")).to_have_text("0")
    assert int(counts.locator("tr[data-zone=near-kerb] td[data-run=draft]").inner_text()) >= 1
    expect(counts.locator("tr[data-zone=far-curb] td[data-run=saved]")).to_have_text("3")  # the three parked cars
    expect(counts.locator("tr[data-zone=far-curb] td[data-run=draft]")).to_have_text("3")
    expect(browser.locator("#whatif-timeline rect.episode-draft[data-zone=near-kerb]").first).to_be_visible()
    assert browser.locator("#whatif-timeline rect.episode-saved[data-zone=near-kerb]").count() == 0
    page.screenshot("zone-editor-whatif")
    assert [z["zone"]["id"] for z in api_get(browser, "/api/cameras/resi-1/zones")] == ["carriageway", "far-curb"]

    browser.click("#zones-save")
    expect(browser.locator("#zones-status")).to_have_text("已保存，工作节点将在几秒内使用新区域")
    expect(browser.locator("#zone-list li[data-state=saved]")).to_have_count(3)
    saved = {z["zone"]["id"]: z for z in api_get(browser, "/api/cameras/resi-1/zones")}
    assert set(saved) == {"carriageway", "far-curb", "near-kerb"}
    near = saved["near-kerb"]
    assert near["version"] == 1 and near["updated_by"].startswith("operator-")
    assert near["zone"]["name"] == "近侧路边 near kerb" and near["zone"]["kind"] == "no_parking"
    assert near["zone"]["classes"] == ["illegal_parking_motor"]
    assert near["zone"]["overrides"] == {"illegal_parking_motor": {"dwell_s": 15.0}}
    assert len(near["zone"]["polygon"]) == len(NEAR_KERB)
    for (x, y), clicked in zip(near["zone"]["polygon"], NEAR_KERB, strict=True):
        assert abs(x - clicked[0]) < 0.01 and abs(y - clicked[1]) < 0.01, (near["zone"]["polygon"], NEAR_KERB)
    assert saved["far-curb"]["version"] == 1  # untouched zones are not written again
    expect(browser.locator("#versions-table tbody tr")).to_have_count(1)
    page.screenshot("zone-editor-saved")
    assert page.errors == []


def test_a_bad_zone_shows_the_apis_message_and_saves_nothing_then_versions(page: Watched, dashboard: Dashboard):
    browser = open_editor(page, dashboard, Role.OPERATOR, "cam-school")
    expect(browser.locator("#zone-list")).to_contain_text("这路摄像头还没有区域")
    draw(browser, [(0.30, 0.30), (0.60, 0.30), (0.45, 0.60)], close_on_first=False)
    browser.fill("#zf-id", "gate")
    browser.fill("#zf-name", "实验小学 校门")
    browser.select_option("#zf-kind", "school")
    expect(browser.locator("#zf-classes input:checked")).to_have_count(7)  # a school watches every class

    browser.locator("#zone-overlay circle.vertex").nth(2).click()  # a corner selected and removed: two are left
    browser.keyboard.press("Delete")
    expect(browser.locator("#zf-polygon")).to_have_text("2 个顶点")
    browser.click("#zones-save")
    polygon_error = browser.locator("[data-error-for=polygon]")
    expect(polygon_error).to_contain_text("a polygon needs at least 3 points, got 2")  # the API's words
    expect(browser.locator("#zones-status")).to_contain_text("1 个区域未能保存")
    assert api_get(browser, "/api/cameras/cam-school/zones") == []
    browser.click("#whatif-run")  # a what-if checks the draft the same way, and names the zone
    expect(browser.locator("#whatif-status")).to_contain_text("gate: polygon: a polygon needs at least 3 points")
    page.screenshot("zone-editor-refused")

    # A corner back by dragging the handle between two corners; a schedule window that ends before it starts.
    browser.locator("#zone-overlay").scroll_into_view_if_needed()
    handle = browser.locator("#zone-overlay circle.mid-handle").first.bounding_box()
    browser.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    browser.mouse.down()
    box = browser.locator("#zone-overlay").bounding_box()
    browser.mouse.move(box["x"] + 0.45 * box["width"], box["y"] + 0.62 * box["height"], steps=4)
    browser.mouse.up()
    expect(browser.locator("#zf-polygon")).to_have_text("3 个顶点")
    browser.click("#zf-add-window")
    browser.fill("#zf-schedule input[name=start-0]", "09:00")
    browser.fill("#zf-schedule input[name=end-0]", "07:00")
    browser.click("#zones-save")
    expect(browser.locator("[data-error-for=schedule]")).to_contain_text("must be after start")
    expect(polygon_error).to_be_hidden()
    assert api_get(browser, "/api/cameras/cam-school/zones") == []

    browser.fill("#zf-schedule input[name=end-0]", "11:00")
    browser.click("#zones-save")
    expect(browser.locator("#zones-status")).to_have_text("已保存，工作节点将在几秒内使用新区域")
    [gate] = api_get(browser, "/api/cameras/cam-school/zones")
    assert gate["zone"]["priority"] == "high" and len(gate["zone"]["polygon"]) == 3
    browser.set_input_files("#whatif-clip", files=[{"name": "notes.mp4", "mimeType": "video/mp4",
                                                    "buffer": b"not a video, whatever its name says" * 20}])
    browser.click("#whatif-run")  # an upload is checked by its content
    expect(browser.locator("#whatif-status")).to_contain_text("不是视频文件 / not a video file")
    assert gate["zone"]["schedule"] == [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00:00",
                                         "end": "11:00:00"}]

    # A second version, compared with the first and then undone by restoring the first.
    browser.fill("#zf-name", "实验小学 南门")
    browser.click("#zones-save")
    expect(browser.locator("#zones-status")).to_have_text("已保存，工作节点将在几秒内使用新区域")
    rows = browser.locator("#versions-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("修改")
    browser.click("#versions-compare")
    diff = browser.locator("#version-diff tr[data-field=name]")
    expect(diff.locator(".diff-from")).to_have_text("实验小学 校门")
    expect(diff.locator(".diff-to")).to_have_text("实验小学 南门")
    assert browser.locator("#version-diff tbody tr").count() == 1  # only the name changed
    page.screenshot("zone-editor-versions")
    browser.click("#versions-table button.restore[data-version='1']")
    expect(rows).to_have_count(3)
    expect(browser.locator("#zf-name")).to_have_value("实验小学 校门")
    [gate] = api_get(browser, "/api/cameras/cam-school/zones")
    assert gate["version"] == 3 and gate["zone"]["name"] == "实验小学 校门"

    # Another operator saves the zone meanwhile: this editor's save names the version it was made on (If-Match)
    # and is refused with the API's words, instead of silently undoing the other save.
    other = Api(dashboard, Role.OPERATOR)
    other("PUT", "/api/cameras/cam-school/zones/gate", json={**gate["zone"], "name": "实验小学 北门"})
    browser.fill("#zf-name", "实验小学 东门")
    browser.click("#zones-save")
    expect(browser.locator("#zones-status")).to_contain_text("1 个区域未能保存")
    expect(browser.locator("body")).to_contain_text("区域已被他人修改 / zone gate is at version 4, not 3")
    [gate] = api_get(browser, "/api/cameras/cam-school/zones")
    assert gate["version"] == 4 and gate["zone"]["name"] == "实验小学 北门"
    refused = re.compile(r"^Failed to load resource: the server responded with a status of (422|412) ")
    assert [e for e in page.errors if not refused.match(e)] == []  # the browser logs each refusal it was meant to get


def test_a_viewer_sees_the_zones_and_their_history_but_no_editing_controls(page: Watched, dashboard: Dashboard):
    browser = open_editor(page, dashboard, Role.VIEWER, "resi-1")
    expect(browser.locator("#zone-overlay g.zone")).to_have_count(2)
    expect(browser.locator(".zones-page")).not_to_contain_text("null")
    for control in ("#zone-toolbar", "#zone-new", "#zones-save", "#whatif", "#calib-pick", "#calib-save"):
        expect(browser.locator(control)).to_have_count(0)
    expect(browser.locator("#editor-hint")).to_have_text("点击区域查看其设置。")
    stage_click(browser, 0.30, 0.33)  # inside far-curb
    expect(browser.locator("#zone-facts dd[data-field=id]")).to_have_text("far-curb")
    expect(browser.locator("#zone-facts dd[data-field=kind]")).to_have_text("禁停区")
    expect(browser.locator("#zone-form")).to_have_count(0)
    expect(browser.locator("#zone-overlay circle.vertex")).to_have_count(0)  # nothing to drag
    expect(browser.locator("#versions-table tbody tr")).to_have_count(1)
    expect(browser.locator("#versions-table button.restore")).to_have_count(0)
    stage_click(browser, 0.30, 0.33, button="right")
    assert len(api_get(browser, "/api/cameras/resi-1/zones")[1]["zone"]["polygon"]) == 4
    page.screenshot("zone-editor-viewer")
    assert page.errors == []


def test_calibration_pairs_are_picked_on_the_picture_and_the_map(page: Watched, dashboard: Dashboard):
    browser = open_editor(page, dashboard, Role.OPERATOR, "cam-school")
    browser.click("#calibration summary")
    expect(browser.locator("#calib-map.leaflet-container")).to_be_visible()
    browser.click("#calib-pick")
    spots = [((0.2, 0.5), (0.25, 0.3)), ((0.8, 0.5), (0.75, 0.3)), ((0.9, 0.9), (0.8, 0.8)), ((0.1, 0.9), (0.2, 0.8))]
    for n, ((ix, iy), (mx, my)) in enumerate(spots, start=1):
        stage_click(browser, ix, iy)
        expect(browser.locator("#calib-status")).to_have_text("请在地图上点击同一位置")
        browser.locator("#calib-map").scroll_into_view_if_needed()
        map_box = browser.locator("#calib-map").bounding_box()
        browser.mouse.click(map_box["x"] + mx * map_box["width"], map_box["y"] + my * map_box["height"])
        expect(browser.locator("#calib-pairs li")).to_have_count(n)
        if n == 3:  # three pairs cannot tie the picture to the ground: the API says so, nothing is saved
            browser.click("#calib-save")
            expect(browser.locator("#calib-status")).to_contain_text("at least 4 point pairs")
            assert dashboard.app.state.calibrations.get("cam-school") is None
    expect(browser.locator("#zone-overlay .pin")).to_have_count(4)
    browser.click("#calib-save")
    expect(browser.locator("#calib-status")).to_have_text("标定已保存（v1）")
    saved = api_get(browser, "/api/cameras/cam-school/calibration")
    assert [p["image"] for p in saved["pairs"]] == [list(image) for image, _ in spots]
    assert all(abs(p["map"][0] - 116.3976) < 0.01 and abs(p["map"][1] - 39.9304) < 0.01 for p in saved["pairs"])
    assert api_get(browser, "/api/cameras/cam-school/zone-set")["homography"] is not None
    page.screenshot("zone-editor-calibration")

    # A school yard drawn once on the map now lands in this camera's picture: dashed, listed, not editable.
    corners = [p["map"] for p in saved["pairs"]]
    lon0, lat0 = (sum(c[0] for c in corners) / 4, sum(c[1] for c in corners) / 4)
    ring = [(lon0 + (lon - lon0) / 2, lat0 + (lat - lat0) / 2) for lon, lat in corners]
    yard = MapZoneConfig(id="school-yard", name="实验小学 操场", geometry={"coordinates": [[*ring, ring[0]]]},
                         zone={"kind": "school"})
    dashboard.app.state.zone_store.create(MAP_SCOPE, yard.id, yard, "test")
    browser.reload()
    projected = browser.locator("#zone-overlay g.zone-map[data-zone-id=map-school-yard]")
    expect(projected).to_have_count(1)
    expect(projected).to_contain_text("实验小学 操场")
    # Dashed, once the page's styles apply (an assertion that waits: a reload may still be loading them).
    expect(projected.locator("polygon")).to_have_css("stroke-dasharray", re.compile(r"^8(px)?[ ,]"))
    expect(browser.locator("#zone-list li.zone-item-map")).to_contain_text("地图区域投影（只读）")
    stage_click(browser, 0.5, 0.75)  # inside the yard: nothing to select or drag
    expect(browser.locator("#zone-form")).to_have_count(0)
    expect(browser.locator("#zone-overlay circle.vertex")).to_have_count(0)
    page.screenshot("zone-editor-map-zone")
    refused = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert [e for e in page.errors if e != refused] == []
