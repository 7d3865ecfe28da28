"""Dashboard benchmark: first load time and transfer size, in Debian's headless Chromium driven by Playwright.

How it measures (docs/performance.md says the same for readers of the figures):

- Every run is a fresh browser context: an empty cache, no cookies, no session, as a wall screen
  that was just switched on. `repeats` runs; each time is the median with the lowest and highest run.
- `login_form_ms`: from `page.goto('/')` until the login form is shown and can be typed into (the
  page, its stylesheet and every ES module loaded and run: app.js un-hides the form last).
- `live_view_ms`: from the click on 登录 until the live alert view has drawn its list (the login
  request, the recent cases, the first thumbnails requested) and `feed_connected_ms` until the
  live feed (SSE) is open.
- `views_ms`: after that, the first visit of the map and of the figures, which load Leaflet and
  Chart.js only then (they are not part of the first load).
- Transfer sizes are response bodies as sent (`Request.sizes()["responseBodySize"]`, after any
  content encoding), summed by Playwright's resource type, per phase, from the first (coldest) run.
  The live feed's own stream never finishes and is not counted; evidence thumbnails are, so the
  `image` figure grows with the number of recent cases.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from bench.common import Stat

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 30_000


def _transfer(requests: list[Any]) -> dict[str, Any]:
    """Response body bytes by resource type for finished requests."""
    by_type: dict[str, int] = defaultdict(int)
    count = 0
    for request in requests:
        try:
            size = request.sizes()["responseBodySize"]
        except Exception:  # a request the browser dropped has no sizes
            continue
        by_type[request.resource_type] += max(0, int(size))
        count += 1
    return {"bytes": sum(by_type.values()), "requests": count, "by_type": dict(sorted(by_type.items()))}


def _one_run(browser: Any, base_url: str, username: str, password: str, views: bool) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    finished: list[Any] = []
    page.on("requestfinished", lambda request: finished.append(request))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        started = time.perf_counter()
        page.goto(base_url.rstrip("/") + "/", wait_until="commit")
        page.locator("#login-username").wait_for(state="visible")
        login_form_s = time.perf_counter() - started
        page.wait_for_load_state("load")
        navigation = page.evaluate("""() => {
            const n = performance.getEntriesByType('navigation')[0];
            return {dom_content_loaded_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd};
        }""")
        login_phase = _transfer(finished)
        before_login = len(finished)

        page.fill("#login-username", username)
        page.fill("#login-password", password)
        clicked = time.perf_counter()
        page.click("#login-submit")
        page.locator("#alert-list .alert, #alert-list .notice, #alert-list .error").first.wait_for()
        live_view_s = time.perf_counter() - clicked
        if page.locator("#alert-list .error").count():
            raise RuntimeError(f"the live view failed: {page.locator('#alert-list .error').inner_text()}")
        page.locator("#feed-dot.feed-connected").wait_for(state="attached")
        feed_s = time.perf_counter() - clicked
        # The thumbnails on screen have loaded (lazy ones below the fold are not fetched on a first look).
        page.wait_for_function("""() => [...document.querySelectorAll('#alert-list img')]
            .filter(i => i.getBoundingClientRect().top < innerHeight).every(i => i.complete)""")
        done = list(finished)  # one snapshot for every phase: requests keep finishing while sizes are read
        live_phase = _transfer(done[before_login:])
        result: dict[str, Any] = {
            "login_form_s": login_form_s, "live_view_s": live_view_s, "feed_connected_s": feed_s,
            "dom_content_loaded_s": navigation["dom_content_loaded_ms"] / 1000, "load_s": navigation["load_ms"] / 1000,
            "transfer": {"login_form": login_phase, "live_view": live_phase, "first_load": _transfer(done)},
            "errors": errors,
        }
        if views:
            before_views = len(finished)
            opened = time.perf_counter()
            page.click(".nav a[data-view=map]")
            page.locator("#map.leaflet-container").wait_for()
            map_s = time.perf_counter() - opened
            opened = time.perf_counter()
            page.click(".nav a[data-view=figures]")
            page.locator(".charts canvas").first.wait_for()
            figures_s = time.perf_counter() - opened
            result["map_s"], result["figures_s"] = map_s, figures_s
            result["transfer"]["map_and_figures"] = _transfer(finished[before_views:])
        return result
    finally:
        context.close()


def _picture() -> Any:
    """A frame of the residential clip (real evidence, real JPEG sizes), or a drawn one where it is absent."""
    import cv2
    import numpy as np

    from models.registry import current_assets_dir

    capture = cv2.VideoCapture(str(current_assets_dir() / "video" / "residential-street-parked-cars.mp4"))
    ok, frame = capture.read()
    capture.release()
    if ok:
        return frame
    picture = np.full((720, 1280, 3), 70, dtype=np.uint8)
    cv2.rectangle(picture, (400, 300), (800, 520), (40, 40, 200), -1)
    return picture


@contextlib.contextmanager
def local_dashboard(redis_url: str = "redis://127.0.0.1:6379/15", cases: int = 20) -> Iterator[tuple[str, str, str]]:
    """The real API in its own process (bench.service) with `cases` open alerts that carry evidence pictures:
    a repeatable dashboard to measure. Yields (base_url, username, password)."""
    import httpx

    from bench.service import running_api
    from bus import BusConfig, EventPublisher, SnapshotStore
    from zones import Event, episode_id

    with running_api(redis_url=redis_url) as api:
        store, picture, events = SnapshotStore(api.media_dir), _picture(), []
        for i in range(cases):
            camera, zone, start = f"cam-{i % 4}", f"curb-{i}", 10.0 * i  # one zone each: no merging
            event = Event.model_validate({
                "event_id": episode_id(camera, zone, "illegal_parking_motor", start, i),
                "class": "illegal_parking_motor", "camera_id": camera, "zone_id": zone,
                "zone_kind": ("school", "hospital", "no_parking", "no_parking")[i % 4],
                "zone_name": f"路段 {i} / stretch {i}", "state": "start", "start_s": start, "ts_s": start,
                "since_s": start - 15, "confidence": 0.7, "bbox": (0.3, 0.3, 0.5, 0.5), "label": "car",
                "track_id": i, "priority": "high" if i % 3 == 0 else "normal", "grid": f"grid-0{i % 3 + 1}",
            })
            events.append(event.model_copy(update={"snapshot": store.save(event, picture)}))
        EventPublisher(BusConfig(redis_url=redis_url, stream=api.stream)).publish(events)
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=api.base_url, headers=api.auth(), timeout=10) as client:
            while client.get("/api/cases").json()["total"] < cases:
                if time.monotonic() > deadline:
                    raise RuntimeError("the consumer did not make the cases in time")
                time.sleep(0.1)
        yield api.base_url, api.username, api.password


def measure_dashboard(base_url: str, username: str, password: str, repeats: int = 5,
                      views: bool = True) -> dict[str, Any]:
    """Cold first loads of the dashboard at `base_url` as `username`: times (median, low, high over `repeats`)
    and transfer sizes by resource type (first run). Needs Chromium at /usr/bin/chromium and an account."""
    from playwright.sync_api import sync_playwright

    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            version = browser.version
            runs = [_one_run(browser, base_url, username, password, views) for _ in range(repeats)]
        finally:
            browser.close()

    def stat_ms(key: str) -> dict[str, Any]:
        return Stat.of(run[key] * 1000 for run in runs).model_dump()

    figures: dict[str, Any] = {
        "url": base_url,
        "browser": f"Chromium {version} (headless)",
        "repeats": repeats,
        "login_form_ms": stat_ms("login_form_s"),
        "dom_content_loaded_ms": stat_ms("dom_content_loaded_s"),
        "live_view_ms": stat_ms("live_view_s"),
        "feed_connected_ms": stat_ms("feed_connected_s"),
        "transfer": runs[0]["transfer"],
        "page_errors": sorted({e for run in runs for e in run["errors"]}),
    }
    if views:
        figures["map_ms"] = stat_ms("map_s")
        figures["figures_ms"] = stat_ms("figures_s")
    return figures


def markdown(figures: dict[str, Any]) -> str:
    """The figures as a small table for docs/performance.md."""

    def ms(key: str) -> str:
        value = figures.get(key)
        return Stat(**value).fmt(0) if value else "-"

    def kib(phase: str) -> str:
        data = figures["transfer"].get(phase)
        if not data:
            return "-"
        kinds = ", ".join(f"{k} {v / 1024:.1f}" for k, v in data["by_type"].items())
        return f"{data['bytes'] / 1024:.1f} KiB in {data['requests']} requests ({kinds})"

    rows = [
        ("login form interactive (cold cache)", ms("login_form_ms"), kib("login_form")),
        ("login → live view drawn", ms("live_view_ms"), kib("live_view")),
        ("login → live feed connected", ms("feed_connected_ms"), ""),
        ("first load in all", "", kib("first_load")),
        ("first visit: map", ms("map_ms"), ""),
        ("first visit: figures", ms("figures_ms"), kib("map_and_figures")),
    ]
    lines = [f"Dashboard first load, {figures['browser']}, {figures['repeats']} cold runs: median (low-high)", "",
             "| step | ms | transfer |", "|---|---|---|"]
    lines += [f"| {step} | {time_ms} | {size} |" for step, time_ms, size in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Dashboard first load time and transfer size (headless Chromium).")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the API serves the dashboard")
    parser.add_argument("--local", type=int, metavar="CASES", help="measure a throwaway API of our own with this "
                        "many alerts instead (needs Redis at --redis-url); no account or password needed")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--user", default="demo", help="an account (./dev.sh demo prints the demo's)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-views", action="store_true", help="leave out the first visits of the map and figures")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.local is not None:
        with local_dashboard(args.redis_url, args.local) as (url, user, password):
            figures = measure_dashboard(url, user, password, args.repeats, views=not args.no_views)
    else:
        password = os.environ.get("STREETWATCH_PASSWORD") or sys.stdin.readline().strip()
        if not password:
            parser.error("give the password on stdin or in STREETWATCH_PASSWORD (never on the command line)")
        figures = measure_dashboard(args.url, args.user, password, args.repeats, views=not args.no_views)
    print(json.dumps(figures, indent=2, ensure_ascii=False) if args.json else markdown(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
