"""The loopback RTSP server that the live-camera tests use, read by PyAV as the worker reads a camera.

These also pin down what PyAV does when a camera goes away, hangs, or was never there: the
worker's reconnect logic is written against exactly these behaviours.
"""

from __future__ import annotations

import itertools
import os
import signal
import time

import av
import pytest

from tests.conftest import ASSETS
from tests.rtsp import fixture
from tests.rtsp.fixture import RtspServer, RtspServerError

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


def assert_every_frame_at_30_fps(frames: list[av.VideoFrame]) -> None:
    """Consecutive frames 1/30 s apart on the stream's own clock (90 kHz, +-1 tick of rounding):
    the clip as stored, none dropped or repeated, whatever the speed of the machine."""
    steps = [float((b.pts - a.pts) * b.time_base) for a, b in itertools.pairwise(frames[1:])]
    assert all(abs(step - 1 / 30) < 2 / 90000 for step in steps), steps


def test_serves_the_clip_and_comes_back_on_the_same_port_after_a_restart(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    url = server.url("/cam")

    frames = read_frames(url, 30)
    assert_live_frames(frames)
    assert_every_frame_at_30_fps(frames)  # was a wall-clock bound (< 5 s), which a loaded machine can miss

    server.restart()
    assert server.url("/cam") == url
    frames = read_frames(url, 30)
    assert_live_frames(frames)
    assert_every_frame_at_30_fps(frames)
    assert server.running


def test_a_client_is_served_even_when_the_stream_is_slow_to_start(rtsp_server) -> None:
    """The server's first (flushing) loop seek clears the stream's segment until the streaming thread
    sends a new one; a PLAY in that gap used to abort the server (g_assert in gst_rtsp_media_get_rates),
    which FFmpeg reports as a bare -1, EPERM. --slow-start holds the segment back as a loaded machine
    would; the server holds the DESCRIBE until the stream has its segment, so the first open works."""
    server = rtsp_server({"/cam": STOPLINE}, slow_start_s=1.0)
    assert_live_frames(read_frames(server.url("/cam"), 10, timeout=(30, 30)))
    assert server.running


def test_a_server_that_dies_by_itself_is_reported_with_its_log(rtsp_server, tmp_path) -> None:
    with RtspServer({"/cam": STOPLINE}, log_path=tmp_path / "crash.log") as server:
        assert server.pid is not None
        os.kill(server.pid, signal.SIGABRT)  # as the g_assert did
        with pytest.raises(RtspServerError, match=r"died: pid \d+ exited by itself with status -6(.|\n)*serving /cam"):
            deadline = time.monotonic() + 30
            while server.running and time.monotonic() < deadline:
                time.sleep(0.05)
            server.stop()
            server.check_alive()


def test_a_server_that_goes_away_mid_stream_ends_the_iteration_without_an_error(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    # a long read timeout: an end that came from it would be an ExitError, not a plain end
    with av.open(server.url("/cam"), options=OPTIONS, timeout=(30, 30)) as container:
        frames = container.decode(video=0)
        for _ in range(10):
            next(frames)
        server.kill()  # no RTSP teardown: the connection just drops
        rest = list(frames)  # what was already buffered, then a plain end of stream: no exception
    assert len(rest) < 30


def test_a_frozen_server_raises_exit_error_after_twice_the_read_timeout(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    with av.open(server.url("/cam"), options=OPTIONS, timeout=(30, 1)) as container:
        frames = container.decode(video=0)
        next(frames)
        server.freeze()  # sockets open, nothing sent: a hung camera
        frozen = time.monotonic()
        with pytest.raises(av.error.ExitError, match="Immediate exit requested"):
            for _ in frames:
                pass
    # not before twice the read timeout (1 s); well before twice the open timeout (30 s), the other candidate
    assert 1.5 < time.monotonic() - frozen < 30


def test_a_missing_stream_and_an_unreachable_camera_fail_fast_with_the_cause(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    cases = [
        (server.url("/no-such-camera"), av.error.HTTPNotFoundError, "404 Not Found"),
        ("rtsp://127.0.0.1:1/cam", av.error.ConnectionRefusedError, "Connection refused"),
    ]
    for url, error, message in cases:
        # the cause, not a timeout: one would raise ExitError (and only after a minute)
        with pytest.raises(error, match=message):
            av.open(url, options=OPTIONS, timeout=(30, 30))

    server.stop()  # a camera that is down (e.g. while it restarts) is refused in the same way
    with pytest.raises(ConnectionRefusedError):
        av.open(server.url("/cam"), options=OPTIONS, timeout=(5, 5))


def test_a_clip_that_cannot_be_served_fails_at_start_with_the_server_log(rtsp_server) -> None:
    server = rtsp_server({"/cam": STOPLINE})
    with pytest.raises(RtspServerError, match=r"port \d+ is taken"):
        rtsp_server({"/cam": STOPLINE}, port=server.port)
    with pytest.raises(RtspServerError, match=r"H\.264"):
        rtsp_server({"/cam": VP9})
