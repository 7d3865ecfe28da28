"""A real `streetwatch api` process: what uvicorn logs goes through the same redaction as everything else, so a
camera password in a request's URL (an operator pasting a camera address into a query) never reaches its log."""

from __future__ import annotations

from pathlib import Path

from bus import BusConfig
from tests.conftest import REDIS_URL
from tests.faults.conftest import ApiProcess, api_process  # noqa: F401  (the fixture, used by name)
from tests.helpers import wait_until


def test_the_api_access_log_masks_a_camera_password_in_a_request_url(api_process, tmp_path: Path):  # noqa: F811
    api: ApiProcess = api_process(f"sqlite:///{tmp_path / 'cases.db'}", BusConfig(redis_url=REDIS_URL))
    answer = api.get("/api/health/live?source=rtsp://admin:Hunter2Secret@10.0.0.9:554/stream1")
    assert answer.status_code == 200
    # The access log names the request (so the line was written), with the password masked.
    wait_until(lambda: "/api/health/live?source=rtsp://" in api.log.read_text(), what="the request's access log line")
    logged = api.log.read_text()
    assert "Hunter2Secret" not in logged
    assert "rtsp://admin:***@10.0.0.9" in logged or "rtsp://***@10.0.0.9" in logged, logged[-2000:]
