#!/usr/bin/python3
"""A real RTSP server on loopback that serves H.264 mp4 clips as live cameras, for the tests.

Runs under the SYSTEM python (/usr/bin/python3) with Debian's GStreamer bindings, never the
project's venv, and imports nothing from the project:

    apt-get install -y --no-install-recommends python3-gi gir1.2-gst-rtsp-server-1.0
    /usr/bin/python3 tests/rtsp/server.py --port 8554 --mount /cam=clip.mp4 [--mount /cam2=...] [--loop]

Each clip is sent as it is stored (filesrc ! qtdemux ! h264parse ! rtph264pay: no decoding, no
re-encoding), at real-time speed. A mount is shared: every client of /cam sees the same stream;
the first client starts the clip from its beginning, later ones join mid-stream, and the clip
stops when the last one leaves. With --loop the clip plays forever (seamless segment seeks, so
timestamps keep increasing); without it, clients get the end of the stream when the clip ends.
Any other path answers 404 Not Found.

Prints exactly one line on stdout, `READY rtsp://127.0.0.1:PORT`, once it listens (--port 0
picks a free port and the line tells which); errors go to stderr with exit status 1 (2 for bad
arguments). Exits 0 on SIGTERM or SIGINT, and with --exit-on-stdin-eof also when its stdin
closes, so that a test run that dies cannot leave a server behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PREFLIGHT_TIMEOUT_S = 10
STOPPED = "stopped (no clients left)"  # the fixture waits for this after its readiness DESCRIBE
SETTLE_TIMEOUT_S = 20  # generous: only a wedged pipeline takes this long


def log(message: str) -> None:
    print(f"rtsp-server[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def parse_mount(text: str) -> tuple[str, str]:
    path, sep, clip = text.partition("=")
    if not sep or not path.startswith("/") or not clip:
        raise argparse.ArgumentTypeError(f"expected /PATH=CLIP.mp4, got {text!r}")
    return path, clip


def check_clip(clip: str) -> str | None:
    """Preroll the clip's video branch once; None when it is a readable H.264 mp4, else why not."""
    if not os.path.isfile(clip):
        return "no such file"
    pipeline = Gst.Pipeline.new("preflight")
    source, demux, parse, sink = (
        Gst.ElementFactory.make(name) for name in ("filesrc", "qtdemux", "h264parse", "fakesink")
    )
    source.set_property("location", clip)
    for element in (source, demux, parse, sink):
        pipeline.add(element)
    source.link(demux)
    parse.link(sink)
    demux.connect("pad-added", on_demux_pad, parse)
    pipeline.set_state(Gst.State.PAUSED)
    message = pipeline.get_bus().timed_pop_filtered(
        PREFLIGHT_TIMEOUT_S * Gst.SECOND, Gst.MessageType.ASYNC_DONE | Gst.MessageType.ERROR
    )
    pipeline.set_state(Gst.State.NULL)
    if message is None:
        return f"did not preroll within {PREFLIGHT_TIMEOUT_S} s"
    if message.type == Gst.MessageType.ERROR:
        error, debug = message.parse_error()
        return f"{error.message} (is it an mp4 with an H.264 video track?) [{debug}]"
    return None


def on_demux_pad(demux: Gst.Element, pad: Gst.Pad, parse: Gst.Element) -> None:
    """Link qtdemux's first video pad to h264parse; other tracks (audio) stay unlinked."""
    if pad.get_name() == "video_0":
        result = pad.link(parse.get_static_pad("sink"))
        if result != Gst.PadLinkReturn.OK:
            log(f"cannot link {pad.get_name()}: {result.value_nick} (not H.264?)")


class ClipFactory(GstRtspServer.RTSPMediaFactory):
    """filesrc ! qtdemux ! h264parse ! rtph264pay name=pay0, optionally looped (see Looper)."""

    def __init__(self, mount: str, clip: str, loop: bool, slow_start_s: float = 0.0) -> None:
        super().__init__()
        self.mount, self.clip, self.loop, self.slow_start_s = mount, clip, loop, slow_start_s
        self.set_shared(True)
        # A client's PLAY carries a Range (FFmpeg sends npt=0.000-): on a seekable shared media the
        # server would seek the stream back to 0 for every client already watching. A camera cannot
        # seek; this mode makes the media report itself unseekable (and adds RFC 7273 clock lines to
        # the SDP, which clients ignore), so PLAY just joins the running stream.
        self.set_publish_clock_mode(GstRtspServer.RTSPPublishClockMode.CLOCK_AND_OFFSET)

    def do_create_element(self, url: GstRtspServer.RTSPUrl) -> Gst.Element:
        media = Gst.Bin.new(None)
        source = Gst.ElementFactory.make("filesrc")
        source.set_property("location", self.clip)
        demux = Gst.ElementFactory.make("qtdemux", "demux")
        parse = Gst.ElementFactory.make("h264parse")
        pay = Gst.ElementFactory.make("rtph264pay", "pay0")
        pay.set_property("pt", 96)
        pay.set_property("config-interval", 1)
        for element in (source, demux, parse, pay):
            media.add(element)
        source.link(demux)
        parse.link(pay)
        demux.connect("pad-added", on_demux_pad, parse)
        if self.loop:
            Looper(self.mount, demux, parse)
        if self.slow_start_s:
            mask = Gst.PadProbeType.EVENT_DOWNSTREAM | Gst.PadProbeType.EVENT_FLUSH
            pay.get_static_pad("sink").add_probe(mask, SlowStart(self.slow_start_s).on_event)
        return media

    def do_configure(self, media: GstRtspServer.RTSPMedia) -> None:
        GstRtspServer.RTSPMediaFactory.do_configure(self, media)
        media.connect("prepared", self.on_prepared)
        # after the factory's own handler, which drops the media from its cache: a DESCRIBE that
        # comes while the media is still being torn down is answered 503 (it "was not unprepared")
        media.connect_after("unprepared", lambda _media: log(f"{self.mount}: {STOPPED}"))

    def on_prepared(self, media: GstRtspServer.RTSPMedia) -> None:
        log(f"{self.mount}: playing {self.clip}{' in a loop' if self.loop else ''}")
        if self.loop:
            start_looping(self.mount, media)


def start_looping(mount: str, media: GstRtspServer.RTSPMedia) -> None:
    """The first (flushing) segment seek, returning only once the stream has a segment again.

    "prepared" runs in the DESCRIBE that prepared the media, before its answer goes out. The
    flush clears the sticky SEGMENT on rtpbin's send_rtp_sink until the streaming thread pushes
    the new one; a PLAY handled in that window (a slow streaming thread: a loaded machine) makes
    gst_rtsp_media_get_rates() hit g_assert(FALSE) and abort the whole server, so the client
    sees the connection close with no answer to PLAY (FFmpeg: a bare -1, "Operation not
    permitted"). Holding the DESCRIBE until data flows again closes that window.
    """
    element = media.get_element()
    settled = threading.Event()
    flushed = False

    def watch(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        nonlocal flushed
        if info.type & Gst.PadProbeType.BUFFER:
            if flushed:  # sticky events (the new SEGMENT) reach the peer before a buffer is pushed
                settled.set()
        elif info.get_event().type == Gst.EventType.FLUSH_STOP:
            flushed = True
        return Gst.PadProbeReturn.OK

    pad = element.get_by_name("pay0").get_static_pad("src")  # the one stream ClipFactory makes
    probe = pad.add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.EVENT_FLUSH, watch)
    try:
        if not seek(element.get_by_name("demux"), Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT):
            log(f"{mount}: the first segment seek failed; the clip will not loop")
        elif not settled.wait(SETTLE_TIMEOUT_S):
            log(f"{mount}: no data within {SETTLE_TIMEOUT_S} s of the first segment seek")
    finally:
        pad.remove_probe(probe)
    if not media.get_stream(0).get_rates()[0]:
        log(f"{mount}: the stream has no segment after the first segment seek; a PLAY may abort the server")


class Looper:
    """Plays one media's clip forever with seamless segment seeks and continuous timestamps.

    After a segment seek qtdemux sends SEGMENT_DONE (instead of EOS) at the end of the clip; a
    non-flushing segment seek back to 0 then goes on without a gap. qtdemux starts the new segment
    at the running time of the last frame's *start*, though, so the first frame of a loop would
    repeat the last one's timestamp: a running-time offset on h264parse's source pad puts each
    loop's first frame exactly where the previous loop's last frame ends (its PTS + duration).
    """

    def __init__(self, mount: str, demux: Gst.Element, parse: Gst.Element) -> None:
        self.mount, self.demux = mount, demux
        self.out = parse.get_static_pad("src")
        self.segment: Gst.Segment | None = None
        self.video_end = 0  # stream time where the last frame of the current loop ends
        self.loop_end: int | None = None  # running time (after the offset) where the last loop ended
        mask = Gst.PadProbeType.BUFFER | Gst.PadProbeType.EVENT_DOWNSTREAM
        parse.get_static_pad("sink").add_probe(mask, self.on_data)

    def on_data(self, pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        try:
            self.observe(info)
        except Exception as exc:  # a probe that raises would drop the data: log, and let it pass
            log(f"{self.mount}: looping failed: {exc!r}")
        return Gst.PadProbeReturn.OK

    def observe(self, info: Gst.PadProbeInfo) -> None:
        if info.type & Gst.PadProbeType.BUFFER:
            buffer = info.get_buffer()
            if buffer.pts != Gst.CLOCK_TIME_NONE:
                duration = buffer.duration if buffer.duration != Gst.CLOCK_TIME_NONE else 0
                self.video_end = max(self.video_end, buffer.pts + duration)
            return
        event = info.get_event()
        if event.type == Gst.EventType.SEGMENT:
            segment = event.parse_segment().copy()
            if self.loop_end is not None and segment.format == Gst.Format.TIME:
                start = running_time(segment, segment.start)
                if start is not None:
                    self.out.set_offset(self.loop_end - start)
                self.loop_end = None
            self.segment, self.video_end = segment, 0
        elif event.type == Gst.EventType.SEGMENT_DONE and self.segment is not None:
            # the last frame may end just past the segment's stop (rounding): hence the _full variant
            ended = running_time(self.segment, self.video_end)
            self.loop_end = ended + self.out.get_offset() if ended is not None else None
            GLib.idle_add(self.loop_again)

    def loop_again(self) -> bool:
        if not seek(self.demux, Gst.SeekFlags.SEGMENT):
            log(f"{self.mount}: the loop seek failed")
        return GLib.SOURCE_REMOVE


class SlowStart:
    """--slow-start: holds the first SEGMENT after a flush back, as a starved streaming thread would."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s, self.flushed = delay_s, False

    def on_event(self, _pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        kind = info.get_event().type
        if kind == Gst.EventType.FLUSH_STOP:
            self.flushed = True
        elif kind == Gst.EventType.SEGMENT and self.flushed:
            self.flushed = False
            time.sleep(self.delay_s)
        return Gst.PadProbeReturn.OK


def running_time(segment: Gst.Segment, position: int) -> int | None:
    """The running time of a stream position, also outside the segment (where to_running_time gives -1)."""
    sign, value = segment.to_running_time_full(Gst.Format.TIME, position)
    return value if sign > 0 else -value if sign < 0 else None


def seek(demux: Gst.Element, flags: Gst.SeekFlags) -> bool:
    return demux.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8554, help="TCP port; 0 picks a free one (default 8554)")
    parser.add_argument("--mount", type=parse_mount, action="append", required=True, metavar="/PATH=CLIP.mp4")
    parser.add_argument("--loop", action="store_true", help="play each clip forever")
    parser.add_argument("--slow-start", type=float, default=0.0, metavar="S",
                        help="test hook: hold the stream's segment back S s after the first seek (a loaded machine)")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin closes (parent died)")
    args = parser.parse_args(argv)

    Gst.init(None)
    mounts = dict(args.mount)
    if len(mounts) != len(args.mount):
        parser.error("a mount path is given twice")
    for path, clip in mounts.items():
        problem = check_clip(clip)
        if problem:
            log(f"cannot serve {clip} at {path}: {problem}")
            return 1

    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mount_points = server.get_mount_points()
    for path, clip in mounts.items():
        mount_points.add_factory(path, ClipFactory(path, os.path.abspath(clip), args.loop, args.slow_start))
    if server.attach(None) == 0:
        log(f"cannot listen on {args.host}:{args.port} (port in use?)")
        return 1

    loop = GLib.MainLoop()

    def stop(*_: object) -> bool:
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop)
    if args.exit_on_stdin_eof:
        GLib.io_add_watch(
            sys.stdin.fileno(),
            GLib.PRIORITY_DEFAULT,
            GLib.IOCondition.IN | GLib.IOCondition.HUP,
            lambda fd, _condition: stop() if not os.read(fd, 4096) else GLib.SOURCE_CONTINUE,
        )

    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"READY rtsp://{host}:{server.get_bound_port()}", flush=True)
    log(f"serving {', '.join(f'{path}={clip}' for path, clip in mounts.items())}{' (loop)' if args.loop else ''}")
    loop.run()

    # Close every client connection (sessions are torn down and the media stopped) before exiting.
    server.client_filter(lambda _server, _client: GstRtspServer.RTSPFilterResult.REMOVE)
    log("stopped")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown with GStreamer threads still around


if __name__ == "__main__":
    sys.exit(main())
