"""What cameras do wrong: damaged data, a new resolution, HTTP streams; none of it ends a camera."""

from __future__ import annotations

import functools
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from detector import Detections, TrackerConfig
from streams import CameraState, FileSource, Frame, SourceConfig
from tests.conftest import ASSETS, HIGHWAY, RESIDENTIAL
from tests.helpers import require_tool
from tests.streams.test_live_source import live, reading, wait_for
from worker import CameraConfig, CameraPipeline
from worker.feeds import FrameQueues
from zones import RulesConfig

STOPLINE = ASSETS / "video" / "stopline-motorcycles.mp4"


def test_a_damaged_clip_decodes_to_its_end(tmp_path: Path):
    damaged = tmp_path / "damaged.mp4"
    data = bytearray(RESIDENTIAL.read_bytes())
    rng = np.random.default_rng(7)
    for offset in range(300_000, len(data) - 100_000, 250_000):  # garbage over the video data, 8 places
        data[offset:offset + 4_000] = rng.integers(0, 256, 4_000, dtype=np.uint8).tobytes()
    damaged.write_bytes(bytes(data))
    source = FileSource("damaged", SourceConfig(url=str(damaged), analysis_fps=2))
    frames = list(source)  # must not raise
    assert len(frames) >= 140 and frames[-1].ts_s > 70
    assert source.health.state is CameraState.ONLINE


def test_a_camera_that_comes_back_at_another_resolution_goes_on(rtsp_server):  # type: ignore[no-untyped-def]
    first = rtsp_server({"/cam": STOPLINE})
    source = live(first.url("/cam"))
    with reading(source) as frames:
        wait_for(lambda: len(frames) >= 5, 15, "640x360 frames")
        port = first.port
        first.stop()
        rtsp_server({"/cam": HIGHWAY}, port=port)  # the camera is reconfigured to 720p
        wait_for(lambda: frames[-1].width == 1280, 30, "720p frames")
        assert source.health.reconnects >= 1 and (source.health.width, source.health.height) == (1280, 720)


def test_the_pipeline_restarts_its_tracks_when_the_resolution_changes():
    camera = CameraConfig(id="cam", source=SourceConfig(url=str(RESIDENTIAL)),
                          zones=[{"id": "z", "kind": "no_parking", "polygon": [[0, 0], [1, 0], [1, 1]]}])
    pipeline = CameraPipeline(camera, RulesConfig.model_validate({}), TrackerConfig(), {"car"})
    car = Detections(np.array([[10.0, 10.0, 60.0, 40.0]]), [0.9], ["car"])
    pipeline.process(Frame("cam", 0.0, 0, np.zeros((360, 640, 3), np.uint8)), car)
    tracker = pipeline.tracker
    pipeline.process(Frame("cam", 0.5, 1, np.zeros((360, 640, 3), np.uint8)), car)
    assert pipeline.tracker is tracker
    pipeline.process(Frame("cam", 1.0, 2, np.zeros((720, 1280, 3), np.uint8)), car)
    assert pipeline.tracker is not tracker


def test_an_hls_stream_over_http_is_read(tmp_path: Path):
    hls = tmp_path / "hls"
    hls.mkdir()
    ffmpeg = require_tool("ffmpeg", "it makes the HLS segments")
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(STOPLINE), "-c", "copy", "-f", "hls",
                    "-hls_time", "2", "-hls_list_size", "0", str(hls / "index.m3u8")], check=True, timeout=60)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(hls)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    source = live(f"http://127.0.0.1:{server.server_address[1]}/index.m3u8")
    try:
        with reading(source) as frames:
            wait_for(lambda: len(frames) >= 20, 20, "frames over HLS")
            assert (frames[0].width, frames[0].height) == (640, 360)
    finally:
        server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_live_camera_queue_drops_its_oldest_frame_and_a_clip_waits():
    queues = FrameQueues(size=2)
    queues.add_camera("a")
    stop = threading.Event()
    image = np.zeros((2, 2, 3), np.uint8)
    dropped = [queues.put(Frame("a", float(i), i, image), drop_oldest=True, stop=stop) for i in range(4)]
    assert dropped == [False, False, True, True]
    with queues.cond:
        assert [f.seq for f in queues.take_round(10)] == [2, 3]  # the newest two: latency stays bounded
    queues.put(Frame("a", 4.0, 4, image), drop_oldest=False, stop=stop)
    queues.put(Frame("a", 5.0, 5, image), drop_oldest=False, stop=stop)
    blocked = threading.Thread(target=queues.put, args=(Frame("a", 6.0, 6, image), False, stop))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # a full clip queue waits instead of losing a frame
    with queues.cond:
        assert [f.seq for f in queues.take_round(1)] == [4]
    blocked.join(2)
    with queues.cond:
        assert [f.seq for f in queues.take_round(10)] == [5, 6]
