"""Live cameras over a real RTSP server on loopback: reading, reconnecting, failing cleanly."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from streams import CameraState, Frame, LiveSource, SourceConfig
from tests.conftest import ASSETS

STOPLINE = ASSETS / "video" / "stopline-motorcycles.mp4"


def live(url: str, **settings: object) -> LiveSource:
    config = SourceConfig(url=url, analysis_fps=5, open_timeout_s=3, stall_timeout_s=1,
                          reconnect_min_s=0.2, reconnect_max_s=1, **settings)
    return LiveSource("cam-live", config)


@contextmanager
def reading(source: LiveSource) -> Iterator[list[Frame]]:
    """Iterate the source in a thread; the list fills as frames arrive. On exit the source must stop."""
    frames: list[Frame] = []
    thread = threading.Thread(target=lambda: frames.extend(source), daemon=True)
    thread.start()
    try:
        yield frames
    finally:
        source.stop.set()
        thread.join(10)
    assert not thread.is_alive(), "the source did not stop when asked"


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_frames_come_stamped_on_the_stream_timeline_and_survive_a_server_restart(rtsp_server):  # type: ignore[no-untyped-def]
    server = rtsp_server({"/cam": STOPLINE})
    source = live(server.url("/cam"))
    with reading(source) as frames:
        wait_for(lambda: len(frames) >= 10, 15, "frames from the stream")
        assert source.health.state is CameraState.ONLINE
        assert (source.health.width, source.health.height) == (640, 360)
        assert abs(frames[0].ts_s - time.time()) < 30  # anchored to the Unix clock at connection
        before = len(frames)
        server.restart(pause_s=0.5)  # the camera goes away and comes back
        wait_for(lambda: len(frames) >= before + 10, 20, "frames after the restart")
        assert source.health.reconnects >= 1
        assert source.health.state is CameraState.ONLINE
        stamps = [f.ts_s for f in frames]
        assert all(b > a for a, b in itertools.pairwise(stamps))
        assert [f.seq for f in frames] == list(range(len(frames)))


def test_a_hung_camera_is_stalled_then_back(rtsp_server):  # type: ignore[no-untyped-def]
    server = rtsp_server({"/cam": STOPLINE})
    source = live(server.url("/cam"))
    with reading(source) as frames:
        wait_for(lambda: len(frames) >= 5, 15, "first frames")
        server.freeze()  # sockets stay open, nothing is sent
        wait_for(lambda: source.health.state in (CameraState.STALLED, CameraState.OFFLINE), 10, "the stall")
        assert source.health.last_error
        server.thaw()
        wait_for(lambda: source.health.state is CameraState.ONLINE and source.health.reconnects >= 1, 20, "recovery")


def test_unreachable_and_missing_streams_go_offline_with_the_reason_and_never_raise(rtsp_server):  # type: ignore[no-untyped-def]
    server = rtsp_server({"/cam": STOPLINE})
    cases = {
        "refused": (live("rtsp://127.0.0.1:1/cam"), "Connection refused"),
        "404": (live(server.url("/no-such-camera")), "404 Not Found"),
    }
    (refused, _), (missing, _) = cases.values()
    with reading(refused) as refused_frames, reading(missing) as missing_frames:
        for name, (source, reason) in cases.items():
            wait_for(lambda s=source: s.health.state is CameraState.OFFLINE and s.health.last_error is not None,
                     10, f"{name} offline")
            assert reason in source.health.last_error, source.health.last_error
            assert source.health.frames_decoded == 0
        assert refused_frames == missing_frames == []  # still retrying with backoff; leaving the block stops them


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    source = live("rtsp://127.0.0.1:1/cam")
    waits = [source.backoff_s(n) for n in range(1, 9)]
    assert 0.1 <= waits[0] <= 0.2 and 0.2 <= waits[1] <= 0.4 and 0.4 <= waits[2] <= 0.8
    assert all(0.5 <= w <= 1.0 for w in waits[3:])  # capped at reconnect_max_s, jittered down to half
    assert len({round(w, 6) for w in waits[3:]}) > 1  # jitter: cameras do not reconnect in step
