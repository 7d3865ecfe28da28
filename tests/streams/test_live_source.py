"""Live cameras over a real RTSP server on loopback: reading, reconnecting, failing cleanly."""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

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


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
       "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=0\r\n")


class UnusableCamera:
    """A loopback "camera" whose RTSP answers FFmpeg cannot use; counts the connections it gets.

    `503`: every request is answered 503 Service Unavailable; `garbage`: bytes that are no RTSP
    reply; `no-play-answer`: OPTIONS, DESCRIBE and SETUP are answered properly and the connection
    then closes instead of answering PLAY (what a GStreamer server that aborts does).
    """

    def __init__(self, mode: str) -> None:
        self.mode, self.connections = mode, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"rtsp://127.0.0.1:{self.listener.getsockname()[1]}/cam"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            with connection, contextlib.suppress(OSError):  # OSError: the client went away first
                self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        data = b""
        while chunk := connection.recv(4096):
            data += chunk
            while b"\r\n\r\n" in data:
                request, data = data.split(b"\r\n\r\n", 1)
                method = request.split(b" ", 1)[0]
                cseq = re.search(rb"CSeq: *(\d+)", request, re.IGNORECASE)
                head = f"CSeq: {int(cseq.group(1)) if cseq else 0}\r\n"
                if self.mode == "503":
                    reply = f"RTSP/1.0 503 Service Unavailable\r\n{head}\r\n"
                elif self.mode == "garbage":
                    reply = "\x00\x01 this is no RTSP\r\n\r\n"
                elif method == b"PLAY":
                    return  # no-play-answer: close without a word
                elif method == b"DESCRIBE":
                    reply = (f"RTSP/1.0 200 OK\r\n{head}Content-Type: application/sdp\r\n"
                             f"Content-Length: {len(SDP)}\r\n\r\n{SDP}")
                elif method == b"SETUP":
                    transport = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1\r\n"
                    reply = f"RTSP/1.0 200 OK\r\n{head}{transport}\r\n"
                else:
                    reply = f"RTSP/1.0 200 OK\r\n{head}Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"
                connection.sendall(reply.encode("latin-1"))

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize(("mode", "reason"), [
    ("503", "the camera refused the request (Server returned 5XX Server Error reply)"),
    ("garbage", "the camera's answer cannot be used (Invalid data found when processing input)"),
    ("no-play-answer", "no usable answer to the RTSP/HTTP exchange (FFmpeg's bare error -1"),
])
def test_an_unusable_rtsp_answer_is_offline_with_the_reason_and_retried_like_a_refusal(mode: str, reason: str) -> None:
    camera = UnusableCamera(mode)
    source = live(camera.url)
    try:
        with reading(source) as frames:
            wait_for(lambda: source.health.state is CameraState.OFFLINE and camera.connections >= 3, 30,
                     f"three connection attempts to the {mode} camera")
            error = source.health.last_error or ""
            assert error.startswith(f"cannot connect: {reason}") and "\n" not in error, error
            assert frames == [] and source.health.frames_decoded == 0
    finally:
        camera.close()
