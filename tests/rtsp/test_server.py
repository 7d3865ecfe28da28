"""The loopback RTSP server that the live-camera tests use, read by PyAV as the worker reads a camera.

These also pin down what PyAV does when a camera goes away, hangs, or was never there: the
worker's reconnect logic is written against exactly these behaviours.
"""

from __future__ import annotations

import itertools
import time

import av
import pytest

from tests.conftest import ASSETS
from tests.rtsp import fixture
from tests.rtsp.fixture import RtspServerError

rtsp_server = fixture.rtsp_server  # the fixture, also without tests/conftest.py importing it

STOPLINE = ASSETS / "video" / "stopline-motorcycles.mp4"  # 640x360 H.264, 30 fps, B-frames, 30.1 s
VP9 = ASSETS / "video" / "city-traffic-1080p-vp9.mp4"
OPTIONS = {"rtsp_transport": "tcp"}


def read_frames(url: str, count: int, timeout: tuple[float, float] = (5, 5)) -> list[av.VideoFrame]:
    with av.open(url, options=OPTIONS, timeout=timeout) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame)
            if len(frames) >= count:
                return frames
    raise AssertionError(f"the stream ended after {len(frames)} frames")


def assert_live_frames(frames: list[av.VideoFrame]) -> None:
    assert all((frame.width, frame.height) == (640, 360) for frame in frames)
    # FFmpeg's RTSP demuxer gives the very first frame of a session no PTS; every later one has one.
    pts = [frame.pts for frame in frames[1:]]
    assert None not in pts, pts
    assert all(a < b for a, b in itertools.pairwise(pts)), f"PTS not strictly increasing: {pts}"


def test_serves_the_clip_and_comes_back_on_the_same_port_after_a_restart(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    url = server.url("/cam")

    started = time.monotonic()
    assert_live_frames(read_frames(url, 30))
    assert time.monotonic() - started < 5  # ~0.8 s to open (stream probing), then 30 frames/s

    server.restart()
    assert server.url("/cam") == url
    assert_live_frames(read_frames(url, 30))


def test_a_server_that_goes_away_mid_stream_ends_the_iteration_without_an_error(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    with av.open(server.url("/cam"), options=OPTIONS, timeout=(5, 5)) as container:
        frames = container.decode(video=0)
        for _ in range(10):
            next(frames)
        server.kill()  # no RTSP teardown: the connection just drops
        killed = time.monotonic()
        rest = list(frames)  # what was already buffered, then a plain end of stream: no exception
    assert time.monotonic() - killed < 2
    assert len(rest) < 30


def test_a_frozen_server_raises_exit_error_after_twice_the_read_timeout(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    with av.open(server.url("/cam"), options=OPTIONS, timeout=(5, 1)) as container:
        frames = container.decode(video=0)
        next(frames)
        server.freeze()  # sockets open, nothing sent: a hung camera
        frozen = time.monotonic()
        with pytest.raises(av.error.ExitError, match="Immediate exit requested"):
            for _ in frames:
                pass
    assert 1.5 < time.monotonic() - frozen < 4


def test_a_missing_stream_and_an_unreachable_camera_fail_fast_with_the_cause(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    cases = [
        (server.url("/no-such-camera"), av.error.HTTPNotFoundError, "404 Not Found"),
        ("rtsp://127.0.0.1:1/cam", av.error.ConnectionRefusedError, "Connection refused"),
    ]
    for url, error, message in cases:
        started = time.monotonic()
        with pytest.raises(error, match=message):
            av.open(url, options=OPTIONS, timeout=(5, 5))
        assert time.monotonic() - started < 1, url

    server.stop()  # a camera that is down (e.g. while it restarts) is refused in the same way
    with pytest.raises(ConnectionRefusedError):
        av.open(server.url("/cam"), options=OPTIONS, timeout=(5, 5))


def test_a_clip_that_cannot_be_served_fails_at_start_with_the_server_log(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    with pytest.raises(RtspServerError, match=r"port \d+ is taken"):
        rtsp_server({"/cam": STOPLINE}, port=server.port)
    with pytest.raises(RtspServerError, match=r"H\.264"):
        rtsp_server({"/cam": VP9})
