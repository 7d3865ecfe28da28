"""A real RTSP server on loopback for the tests: `RtspServer` and the `rtsp_server` fixture.

The server (`server.py` beside this file) runs under the system python with Debian's GStreamer
bindings (`apt-get install -y --no-install-recommends python3-gi gir1.2-gst-rtsp-server-1.0`);
this module runs in the project's venv and only starts, stops and restarts it:

    with RtspServer({"/cam": RESIDENTIAL}) as server:
        container = av.open(server.url("/cam"), options={"rtsp_transport": "tcp"}, timeout=(5, 5))
        server.restart()   # same port: a client that reconnects finds it again

Tests that need it take the `rtsp_server` fixture, a factory that starts servers and stops every
one of them at teardown; they skip when the system packages are missing, or fail instead when
STREETWATCH_REQUIRE_RTSP=1 (CI, where dev.sh installs them).
"""

from __future__ import annotations

import functools
import os
import random
import selectors
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).resolve().with_name("server.py")
APT_PACKAGES = "python3-gi gir1.2-gst-rtsp-server-1.0"
REQUIRED_ELEMENTS = ("filesrc", "qtdemux", "h264parse", "rtph264pay")
# Ports chosen by the fixture lie below the kernel's ephemeral range (32768-60999 by default), so
# that no outgoing connection can take the port while the server is down during a restart.
PORT_RANGE = (20000, 32000)
STOPPED = "stopped (no clients left)"  # server.py's line when a mount's media is torn down

_PROBE = f"""
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [name for name in {REQUIRED_ELEMENTS!r} if Gst.ElementFactory.find(name) is None]
if missing:
    raise SystemExit("GStreamer elements missing: " + ", ".join(missing))
"""


class RtspServerError(RuntimeError):
    """The server could not be started (the message carries its log)."""


class RtspServer:
    """`tests/rtsp/server.py` in a subprocess: one port, any number of mounts, start/stop/restart."""

    def __init__(
        self,
        mounts: Mapping[str, Path | str],
        port: int | None = None,
        loop: bool = True,
        *,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        start_timeout_s: float = 30.0,
        slow_start_s: float = 0.0,
    ) -> None:
        if not mounts:
            raise ValueError("RtspServer needs at least one mount")
        self.mounts = {_mount_path(path): Path(clip) for path, clip in mounts.items()}
        for path, clip in self.mounts.items():
            if not clip.is_file():
                raise FileNotFoundError(f"clip for {path} not found: {clip}")
        self.host = host
        self.loop = loop
        self.start_timeout_s = start_timeout_s
        self.slow_start_s = slow_start_s  # server.py --slow-start: a starved streaming thread, on purpose
        self.deaths: list[str] = []  # exits nobody asked for (a crash): see check_alive()
        self._port = port
        self._own_log = log_path is None
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._frozen = False
        self._killing = False

    @property
    def log_path(self) -> Path:
        """The server's stderr, every start appended (a temporary file unless one was given)."""
        if self._log_path is None:
            handle, name = tempfile.mkstemp(prefix="rtsp-server-", suffix=".log")
            os.close(handle)
            self._log_path = Path(name)
        return self._log_path

    # ----- addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server has no port before its first start()")
        return self._port

    @property
    def base_url(self) -> str:
        return f"rtsp://{self.host}:{self.port}"

    def url(self, mount: str) -> str:
        """The address of a mount; any path is allowed (one that is not served answers 404)."""
        return self.base_url + _mount_path(mount)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # ----- life cycle

    @staticmethod
    def unavailable_reason() -> str | None:
        """None when /usr/bin/python3 has GStreamer's RTSP server and the elements; else why not."""
        return _unavailable_reason()

    @staticmethod
    def available() -> bool:
        return _unavailable_reason() is None

    def start(self) -> RtspServer:
        """Spawn it; ready once every mount answers DESCRIBE with a video SDP. Same port after a stop()."""
        if self.running:
            raise RuntimeError(f"the RTSP server is already running on {self.base_url}")
        if self._port is not None:
            try:
                self._spawn(self._port)
            except _PortTaken as taken:
                raise RtspServerError(f"port {self._port} is taken: {taken}") from None
            return self
        for _ in range(5):  # a port found free can be taken before the server binds it: pick another
            try:
                self._port = self._spawn(_free_port(self.host))
                return self
            except _PortTaken:
                continue
        raise RtspServerError(f"no free port could be bound on {self.host}; log: {self.log_path}")

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then wait (SIGKILL after timeout_s); a no-op when it is not running."""
        if self._frozen:
            self.thaw()
        process, self._process = self._process, None
        if process is None:
            return
        status = process.poll()
        if status is not None and not self._killing:
            self.deaths.append(f"pid {process.pid} exited by itself with status {status}")
        self._killing = False
        _end(process, timeout_s)

    def check_alive(self) -> None:
        """Raise RtspServerError, with the log, if a stop() found it had exited without being asked to."""
        if self.deaths:
            log = self._log_since(0)[-4000:]
            raise RtspServerError(f"the RTSP test server died: {'; '.join(self.deaths)}\n{log}(log: {self.log_path})")

    def kill(self) -> None:
        """SIGKILL, as when the camera's host loses power: no RTSP teardown, connections just drop."""
        if self._process is not None and self._process.poll() is None:
            self._killing = True
            self._process.kill()
        self.stop()

    def freeze(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing, like a hung camera or a cut cable."""
        if not self.running:
            raise RuntimeError("the RTSP server is not running")
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)
        self._frozen = True

    def thaw(self) -> None:
        """SIGCONT after freeze(): the server goes on where it stopped."""
        if self._process is not None and self._frozen:
            self._process.send_signal(signal.SIGCONT)
        self._frozen = False

    def restart(self, pause_s: float = 0.0) -> RtspServer:
        """stop(), stay down pause_s seconds, then start() on the same port."""
        self.stop()
        if pause_s:
            time.sleep(pause_s)
        return self.start()

    def close(self) -> None:
        """stop() and remove the log file if this object made it."""
        self.stop()
        if self._own_log and self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def __enter__(self) -> RtspServer:
        return self.start() if not self.running else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"running pid {self.pid}" if self.running else "stopped"
        return f"RtspServer({self.base_url if self._port else 'no port yet'}, {sorted(self.mounts)}, {state})"

    # ----- internals

    def _spawn(self, port: int) -> int:
        command = [SYSTEM_PYTHON, "-I", str(SERVER_SCRIPT), "--host", self.host, "--port", str(port)]
        for path, clip in self.mounts.items():
            command += ["--mount", f"{path}={clip.resolve()}"]
        if self.loop:
            command.append("--loop")
        if self.slow_start_s:
            command += ["--slow-start", str(self.slow_start_s)]
        command.append("--exit-on-stdin-eof")  # the server goes when this process goes, even on SIGKILL
        with self.log_path.open("ab") as log:
            log.write(f"--- {' '.join(command)}\n".encode())
            log.flush()
            offset = log.tell()
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        deadline = time.monotonic() + self.start_timeout_s
        line = _read_line(process, self.start_timeout_s)
        if line.startswith("READY "):
            port = int(line.rsplit(":", 1)[1])
            problem = self._describe_all(port, deadline, offset)
            if problem is None:
                self._process = process
                return port
            _end(process, 2.0)
            raise RtspServerError(f"the RTSP server {problem}: {' '.join(command)}\n"
                                  f"{self._log_since(offset)}(log: {self.log_path})")
        try:  # stdout closed or the time ran out: did it exit (reaped just after closing stdout)?
            status: int | None = process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            status = None
        _end(process, 2.0)
        output = self._log_since(offset)
        if "cannot listen" in output:
            raise _PortTaken(output)
        if status is not None:
            why = f"exited with status {status}"
        elif line:
            why = f"printed {line!r} instead of READY"
        else:
            why = f"was not READY within {self.start_timeout_s} s"
        raise RtspServerError(f"the RTSP server {why}: {' '.join(command)}\n{output}(log: {self.log_path})")

    def _describe_all(self, port: int, deadline: float, offset: int) -> str | None:
        """None when every mount answers DESCRIBE with 200 and an SDP with a video track, else what it did."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        for path in self.mounts:
            url = f"rtsp://{host}:{port}{path}"
            try:
                status, sdp = describe(self.host, port, url, max(1.0, deadline - time.monotonic()))
            except OSError as exc:
                return f"did not answer DESCRIBE {url}: {exc!r}"
            if not status.startswith("RTSP/1.0 200") or "\nm=video " not in sdp:
                return f"answered DESCRIBE {url} with {status!r} and {sdp[:200]!r}, not 200 with a video SDP"
        # That DESCRIBE prepared each mount's media, torn down once its connection closed; until
        # that is done GStreamer answers the next DESCRIBE 503, so wait for the server to say so.
        while self._log_since(offset).count(STOPPED) < len(self.mounts):
            if time.monotonic() > deadline:
                return f"did not stop the media of its readiness DESCRIBE within {self.start_timeout_s} s"
            time.sleep(0.02)
        return None

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})\n"


class _PortTaken(Exception):
    pass


def describe(host: str, port: int, url: str, timeout_s: float) -> tuple[str, str]:
    """One RTSP DESCRIBE on its own connection: (status line, body). Raises OSError (TimeoutError too)."""
    with socket.create_connection((host, port), timeout=timeout_s) as connection:
        connection.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode())
        reply, head = connection.makefile("rb"), []
        while line := reply.readline().decode(errors="replace").strip():
            head.append(line)
        length = next((int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:")), 0)
        return (head[0] if head else ""), reply.read(length).decode(errors="replace")


def _end(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM (SIGKILL after timeout_s), reap it, close its pipes."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def _mount_path(mount: str) -> str:
    return mount if mount.startswith("/") else "/" + mount


def _read_line(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    """The first line on the process's stdout, or '' when it exits or the time runs out."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                break
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace").split("\n", 1)[0].strip() if b"\n" in data else ""


def _free_port(host: str) -> int:
    """A port below the ephemeral range that nothing listens on right now."""
    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RtspServerError(f"no free port in {PORT_RANGE} on {host}")


@functools.cache
def _unavailable_reason() -> str | None:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} not found"
    try:
        result = subprocess.run([SYSTEM_PYTHON, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{SYSTEM_PYTHON} cannot be run: {exc}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return f"{SYSTEM_PYTHON} has no GStreamer RTSP server ({last}); apt-get install {APT_PACKAGES}"
    return None


@pytest.fixture
def rtsp_server(tmp_path: Path) -> Iterator[Callable[..., RtspServer]]:
    """A factory `rtsp_server(mounts, port=None, loop=True, start=True, **options) -> RtspServer`.

    All are stopped at teardown, which then fails (with the server's log) if one died on its own.
    """
    reason = RtspServer.unavailable_reason()
    if reason:
        if os.environ.get("STREETWATCH_REQUIRE_RTSP") == "1":
            pytest.fail(f"STREETWATCH_REQUIRE_RTSP=1 but {reason}")
        pytest.skip(f"no RTSP test server: {reason}")
    servers: list[RtspServer] = []

    def make(
        mounts: Mapping[str, Path | str], port: int | None = None, loop: bool = True, start: bool = True,
        **options: float,
    ) -> RtspServer:
        log_path = tmp_path / f"rtsp-server-{len(servers)}.log"
        server = RtspServer(mounts, port, loop, log_path=log_path, **options)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.stop()
    for server in servers:  # a server that crashed under a test is the failure, not what its client saw
        server.check_alive()
