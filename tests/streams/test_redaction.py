"""A camera's password must not reach any log, tracebacks included: a real PyAV failure on a real URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from models.registry import PROJECT_ROOT
from tests.servers import free_port

# The product's logging (cli.main), plus a file and a JSON handler, then a real camera failure logged by the
# real feed thread with log.exception: PyAV's error message, and so the traceback, quotes the whole URL.
SCRIPT = r'''
import json, logging, sys, threading
from cli.main import _setup_logging
from streams import SourceConfig, SourceHealth
from streams.decoder import open_container
from streams.redact import install_log_redaction
from worker.feeds import CameraFeed

url, plain, as_json = sys.argv[1:4]
_setup_logging(False)

class Json(logging.Formatter):
    def format(self, record):
        exc = self.formatException(record.exc_info) if record.exc_info else None
        return json.dumps({"message": record.getMessage(), "exc": exc})

root = logging.getLogger()
root.addHandler(logging.FileHandler(plain))
json_handler = logging.FileHandler(as_json)
json_handler.setFormatter(Json())
root.addHandler(json_handler)
install_log_redaction()

class Opening:
    """A source that opens the camera through PyAV and lets the failure reach the feed's log.exception."""
    camera_id = "cam-1"
    config = SourceConfig(url=url, open_timeout_s=3)
    health = SourceHealth("cam-1", url)
    def __iter__(self):
        open_container(url, self.config)
        yield from ()

CameraFeed(Opening(), None, threading.Event()).run()
'''


def test_a_camera_failure_logged_with_its_traceback_never_shows_the_password(tmp_path: Path) -> None:
    url = f"rtsp://admin:s3cr3t-pw@127.0.0.1:{free_port()}/stream1"  # a closed port: connection refused
    plain, as_json = tmp_path / "worker.log", tmp_path / "worker.json"
    run = subprocess.run([sys.executable, "-c", SCRIPT, url, str(plain), str(as_json)], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=120)
    outputs = {"stderr": run.stderr, "file": plain.read_text(), "json": as_json.read_text()}
    assert run.returncode == 0, run.stderr[-3000:]
    for name, text in outputs.items():
        assert "source failed" in text and "refused" in text.lower(), f"{name}: the failure was not logged: {text}"
        assert "s3cr3t-pw" not in text, f"{name} shows the camera's password:\n{text}"
        assert "***@127.0.0.1" in text, f"{name}: the URL is not there, masked: {text}"
    assert "Traceback" in outputs["stderr"] and "Traceback" in outputs["file"]  # redacted, not dropped
