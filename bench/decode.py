"""Decode benchmark: what one camera costs per core in each decode mode, against `ffmpeg -threads 1`.

How it measures (docs/performance.md says the same for readers of the figures):

- The whole measurement runs with this process pinned to one CPU (`os.sched_setaffinity`). FFmpeg's
  automatic thread count follows the affinity, so the decoder `streams.decoder` opens with
  `thread_type="AUTO"` runs one thread, and CPU seconds are seconds of one core. The ffmpeg
  children inherit the pin and are given `-threads 1` as well.
- CPU seconds are the measure: `time.process_time()` for us, `RUSAGE_CHILDREN` for ffmpeg. Wall
  seconds are kept too, but on a shared machine other jobs inflate them.
- Start-up is measured on its own and subtracted, so the figures are the steady state of a camera
  that stays open: for ffmpeg the same command with `-frames:v 0` (process start, open, probe), for
  us `streams.decoder.open_container` and close. The gross figures stay in the JSON.
- Every clip and mode runs once per round, `repeats` rounds, and each figure is the median with
  the lowest and highest round beside it.
- Our modes include what the service pays per analysed frame: the conversion to a BGR numpy array.
"""

from __future__ import annotations

import logging
import re
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
from pydantic import BaseModel

from bench.common import Machine, Stat, default_cpu, fmt_num, pinned, table
from models.registry import current_assets_dir
from streams import FileSource, SourceConfig
from streams.decoder import open_container

log = logging.getLogger(__name__)

DEFAULT_CLIPS = (
    "pedestrian-street-1080p.mp4",
    "london-street-1080p.mp4",
    "city-traffic-1080p-vp9.mp4",
    "residential-street-parked-cars.mp4",
)
ModeName = Literal["ffmpeg", "ffmpeg-nokey", "pyav", "all", "keyframes", "every"]
FFMPEG_MODES: tuple[ModeName, ...] = ("ffmpeg", "ffmpeg-nokey")
OUR_MODES: tuple[ModeName, ...] = ("pyav", "all", "keyframes", "every")


def default_clips() -> list[Path]:
    """The shared 1080p clips and the residential clip, from the shared assets."""
    return [current_assets_dir() / "video" / name for name in DEFAULT_CLIPS]


class ClipInfo(BaseModel):
    """What decides a clip's decode cost: codec, size, frame rate and how often key frames come."""

    path: str
    name: str
    codec: str
    width: int
    height: int
    fps: float
    packets: int
    frames: int  # frames the decoder gives (packets before the first key frame give none)
    key_frames: int  # packets flagged key
    key_interval_s: float | None  # mean time between key frames; None with a single key frame
    video_s: float  # seconds of video decoded: first to last frame plus one frame


class ModeResult(BaseModel):
    """One decode mode on one clip. `net` figures are per core, start-up subtracted."""

    mode: ModeName
    description: str
    command: str | None = None  # for the ffmpeg references
    frames_decoded: int
    frames_analysed: int | None  # None: the mode analyses nothing (references)
    cpu_s: Stat  # a whole pass, start-up included
    wall_s: Stat
    startup_cpu_s: Stat  # ffmpeg: process start, open and probe (-frames:v 0); ours: open and close
    net_cpu_s: Stat  # cpu_s - startup_cpu_s, round by round
    decode_fps_per_core: float | None  # frames decoded per net CPU second
    cameras_per_core: float  # seconds of video per net CPU second: cameras one core keeps up with
    decoded_per_analysed: float | None
    analysed_per_s: float | None  # frames analysed per second of video: below analysis_fps when key frames are rarer
    reference: ModeName | None = None  # the ffmpeg run doing the same decoding work
    ratio_vs_reference: float | None = None  # decode fps per core over the reference's
    cost_vs_full_decode: float | None = None  # net CPU over `ffmpeg -threads 1` decoding every frame
    notes: list[str] = []


class ClipResult(BaseModel):
    clip: ClipInfo
    bgr_ms_per_frame: Stat | None  # CPU ms per analysed frame for the BGR array: `every` minus `all`
    modes: list[ModeResult]

    def mode(self, name: str) -> ModeResult | None:
        return next((m for m in self.modes if m.mode == name), None)


class DecodeReport(BaseModel):
    machine: Machine
    repeats: int
    analysis_fps: float
    pinned_cpu: int | None
    hwaccel: str
    clips: list[ClipResult]


@dataclass
class _Sample:
    cpu_s: float
    wall_s: float
    startup_cpu_s: float
    frames_decoded: int
    frames_analysed: int | None


def run_decode_bench(
    clips: list[Path] | None = None,
    repeats: int = 3,
    analysis_fps: float = 1.0,
    cpu: int | Literal["auto"] | None = "auto",
    hwaccel: Literal["none", "auto", "cuda", "vaapi"] = "none",
    ffmpeg: bool = True,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DecodeReport:
    """Measure every mode on every clip, `repeats` interleaved rounds; see the module's docstring.

    `cpu`: the CPU to pin to ("auto": the lowest usable, None: no pinning). `hwaccel` applies to the
    FileSource modes (it falls back to software, with a warning, where the host has none).
    `ffmpeg=False` or no `ffmpeg` on PATH: the references are left out and the ratios are None.
    """
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    paths = [Path(p) for p in (clips or default_clips())]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"clip not found: {path}")
    ffmpeg_exe = shutil.which("ffmpeg") if ffmpeg else None
    pin = default_cpu() if cpu == "auto" else cpu
    machine = Machine.current()
    samples: dict[tuple[int, ModeName], list[_Sample]] = {}
    with pinned(pin) as pin:
        infos = []
        for path in paths:  # also the warm-up: file in the page cache, code paths loaded
            progress(f"probing {path.name}")
            infos.append(_probe(path))
        for round_ in range(repeats):
            for i, info in enumerate(infos):
                progress(f"round {round_ + 1}/{repeats}: {info.name}")
                if ffmpeg_exe:
                    for mode in FFMPEG_MODES:
                        samples.setdefault((i, mode), []).append(_run_ffmpeg(ffmpeg_exe, info.path, mode))
                startup = _open_cost(info.path)
                samples.setdefault((i, "pyav"), []).append(_run_pyav(info.path, startup))
                for mode in ("all", "keyframes", "every"):
                    config = SourceConfig(
                        url=info.path, decode="keyframes" if mode == "keyframes" else "all",
                        analysis_fps=None if mode == "every" else analysis_fps, hwaccel=hwaccel,
                    )
                    samples.setdefault((i, mode), []).append(_run_source(config, startup))
    results = []
    for i, info in enumerate(infos):
        modes = [
            _summarise(info, mode, samples[(i, mode)], analysis_fps, ffmpeg_exe)
            for mode in (*FFMPEG_MODES, *OUR_MODES) if (i, mode) in samples
        ]
        _compare(info, modes)
        results.append(ClipResult(clip=info, bgr_ms_per_frame=_bgr_cost(samples[(i, "all")], samples[(i, "every")]),
                                  modes=modes))
    return DecodeReport(machine=machine, repeats=repeats, analysis_fps=analysis_fps, pinned_cpu=pin,
                        hwaccel=hwaccel, clips=results)


def _probe(path: Path) -> ClipInfo:
    """Packets and key frames (demuxing only), then one full decode for frames and their span."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        stream = container.streams.video[0]
        key_times, packets = [], 0
        time_base = stream.time_base or Fraction(1, 90000)
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            packets += 1
            if packet.is_keyframe:
                key_times.append(float((packet.pts or 0) * time_base))
        codec = stream.codec_context.name
        width, height = stream.codec_context.width, stream.codec_context.height
        fps = float(stream.average_rate or stream.guessed_rate or 25)
    frames, first, last = 0, None, None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            frames += 1
            if frame.pts is not None:
                t = float(frame.pts * time_base)
                first = t if first is None else min(first, t)
                last = t if last is None else max(last, t)
    span = (last - first) if first is not None and last is not None else frames / fps
    key_times.sort()
    interval = (key_times[-1] - key_times[0]) / (len(key_times) - 1) if len(key_times) > 1 else None
    return ClipInfo(
        path=str(path), name=path.name, codec=codec, width=width, height=height, fps=round(fps, 3),
        packets=packets, frames=frames, key_frames=len(key_times),
        key_interval_s=round(interval, 3) if interval is not None else None, video_s=round(span + 1 / fps, 3),
    )


def ffmpeg_command(exe: str, path: str, mode: ModeName, probe_only: bool = False) -> list[str]:
    """The reference: one decoder thread, the first video stream only (no audio), frames thrown away."""
    cmd = [exe, "-hide_banner", "-nostats", "-threads", "1"]
    if mode == "ffmpeg-nokey":
        cmd += ["-skip_frame", "nokey"]
    cmd += ["-i", path, "-map", "0:v:0"]
    if probe_only:
        cmd += ["-frames:v", "0"]
    return [*cmd, "-f", "null", "-"]


_FRAME_COUNT = re.compile(r"frame=\s*(\d+)")


def _child(cmd: list[str]) -> tuple[float, float, str]:
    """CPU seconds (user + system) and wall seconds of one child process, and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, proc.stderr


def _run_ffmpeg(exe: str, path: str, mode: ModeName) -> _Sample:
    startup, _, _ = _child(ffmpeg_command(exe, path, mode, probe_only=True))
    cpu, wall, stderr = _child(ffmpeg_command(exe, path, mode))
    counts = _FRAME_COUNT.findall(stderr)
    return _Sample(cpu, wall, startup, int(counts[-1]) if counts else 0, None)


def _open_cost(path: str, times: int = 3) -> float:
    """CPU seconds to open a clip (probe included) and close it, as every FileSource pass does once."""
    config = SourceConfig(url=path)
    costs = []
    for _ in range(times):
        start = time.process_time()
        with open_container(path, config) as container:
            container.streams.video[0].thread_type = "AUTO"
        costs.append(time.process_time() - start)
    return sorted(costs)[len(costs) // 2]


def _run_pyav(path: str, startup: float) -> _Sample:
    """Every frame through PyAV with one decoder thread and no conversion: our library against ffmpeg's."""
    frames = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        stream.thread_type = "NONE"
        for packet in container.demux(stream):
            frames += len(packet.decode())
    return _Sample(time.process_time() - cpu0, time.perf_counter() - wall0, startup, frames, None)


def _run_source(config: SourceConfig, startup: float) -> _Sample:
    """One pass of the service's own FileSource: decode, sample, convert analysed frames to BGR."""
    source = FileSource("bench", config)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _frame in source:
        pass
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return _Sample(cpu, wall, startup, source.frames_decoded, source.frames_analysed)


def _bgr_cost(all_: list[_Sample], every: list[_Sample]) -> Stat | None:
    """Milliseconds per analysed frame that `every` pays over `all` (same frames decoded), round by round.

    That is the conversion to a BGR numpy array and the `Frame` around it, as the service pays it.
    """
    costs = [
        (e.cpu_s - a.cpu_s) * 1000 / (e.frames_analysed - a.frames_analysed)
        for a, e in zip(all_, every, strict=True)
        if e.frames_analysed and a.frames_analysed is not None and e.frames_analysed > a.frames_analysed
    ]
    return Stat.of(costs) if costs else None


_DESCRIPTIONS: dict[ModeName, str] = {
    "ffmpeg": "ffmpeg -threads 1 -f null: every frame decoded (the reference)",
    "ffmpeg-nokey": "ffmpeg -threads 1 -skip_frame nokey -f null: key frames decoded (reference for keyframes)",
    "pyav": "PyAV with 1 decoder thread, every frame decoded, nothing converted",
    "all": "FileSource decode=all: every frame decoded, {fps:g} frame/s analysed (BGR numpy)",
    "keyframes": "FileSource decode=keyframes: only key packets reach the decoder, {fps:g} frame/s analysed",
    "every": "FileSource analysis_fps=None: every frame decoded and converted to BGR numpy",
}
_REFERENCE: dict[ModeName, ModeName | None] = {
    "ffmpeg": None, "ffmpeg-nokey": None, "pyav": "ffmpeg", "all": "ffmpeg", "keyframes": "ffmpeg-nokey",
    "every": "ffmpeg",
}


def _summarise(info: ClipInfo, mode: ModeName, runs: list[_Sample], analysis_fps: float,
               exe: str | None) -> ModeResult:
    net = Stat.of(max(s.cpu_s - s.startup_cpu_s, 1e-6) for s in runs)
    last = runs[-1]
    notes = []
    if len({(s.frames_decoded, s.frames_analysed) for s in runs}) > 1:
        notes.append("frame counts differed between rounds: " +
                     ", ".join(f"{s.frames_decoded}/{s.frames_analysed}" for s in runs))
    analysed = last.frames_analysed
    if analysed == 0:
        notes.append("no frame analysed")
    return ModeResult(
        mode=mode,
        description=_DESCRIPTIONS[mode].format(fps=analysis_fps),
        command=" ".join(ffmpeg_command("ffmpeg", info.path, mode)) if mode in FFMPEG_MODES and exe else None,
        frames_decoded=last.frames_decoded,
        frames_analysed=analysed,
        cpu_s=Stat.of(s.cpu_s for s in runs),
        wall_s=Stat.of(s.wall_s for s in runs),
        startup_cpu_s=Stat.of(s.startup_cpu_s for s in runs),
        net_cpu_s=net,
        decode_fps_per_core=last.frames_decoded / net.median if last.frames_decoded else None,
        cameras_per_core=info.video_s / net.median,
        decoded_per_analysed=last.frames_decoded / analysed if analysed else None,
        analysed_per_s=analysed / info.video_s if analysed is not None else None,
        reference=_REFERENCE[mode],
        notes=notes,
    )


def _compare(info: ClipInfo, modes: list[ModeResult]) -> None:
    """Fill in the ratios against the ffmpeg references measured in the same run, and flag oddities."""
    by_name = {m.mode: m for m in modes}
    full, nokey, ours = by_name.get("ffmpeg"), by_name.get("ffmpeg-nokey"), by_name.get("keyframes")
    if nokey is not None and nokey.frames_decoded > info.key_frames:
        nokey.notes.append(f"ffmpeg's {info.codec} decoder ignores -skip_frame nokey and decoded every frame: "
                           "no key-frame reference for this clip")
        by_name.pop("ffmpeg-nokey")
    elif ours is not None and nokey is not None and ours.frames_decoded < nokey.frames_decoded:
        ours.notes.append(f"{ours.frames_decoded} key frames came out of our decoder where ffmpeg -skip_frame "
                          f"nokey gives {nokey.frames_decoded}: the rest were held back for frame reordering "
                          "and never flushed")
    for m in modes:
        ref = by_name.get(m.reference) if m.reference else None
        if ref is not None and ref.decode_fps_per_core and m.decode_fps_per_core:
            m.ratio_vs_reference = m.decode_fps_per_core / ref.decode_fps_per_core
        if full is not None:
            m.cost_vs_full_decode = m.net_cpu_s.median / full.net_cpu_s.median


def render(report: DecodeReport, markdown: bool = False) -> str:
    """The clips, then one row per clip and mode: the tables docs/performance.md carries."""
    clip_rows = [
        [c.clip.name, c.clip.codec, f"{c.clip.width}x{c.clip.height}", f"{c.clip.fps:g}", f"{c.clip.video_s:.1f}",
         str(c.clip.frames), str(c.clip.key_frames), fmt_num(c.clip.key_interval_s),
         c.bgr_ms_per_frame.fmt(1) if c.bgr_ms_per_frame else "-"]
        for c in report.clips
    ]
    parts = [
        f"Machine: {report.machine.describe()}",
        f"Pinned to CPU {report.pinned_cpu}" if report.pinned_cpu is not None
        else "Not pinned: CPU seconds of all cores",
        f"Rounds: {report.repeats}; figures are medians (lowest-highest round in brackets); "
        f"analysis at {report.analysis_fps:g} frame/s; hwaccel {report.hwaccel}",
        "",
        table(["clip", "codec", "size", "fps", "seconds", "frames", "key frames", "key interval s",
               "BGR ms/frame"], clip_rows, markdown),
        "",
    ]
    rows = []
    for c in report.clips:
        for m in c.modes:
            rows.append([
                c.clip.name.removesuffix(".mp4"), m.mode, str(m.frames_decoded),
                "-" if m.frames_analysed is None else str(m.frames_analysed),
                fmt_num(m.decoded_per_analysed, 1), fmt_num(m.analysed_per_s), m.net_cpu_s.fmt(3),
                fmt_num(m.decode_fps_per_core, 0),
                fmt_num(m.ratio_vs_reference), fmt_num(m.cost_vs_full_decode), f"{m.cameras_per_core:.1f}",
            ])
    parts.append(table(
        ["clip", "mode", "decoded", "analysed", "decoded/analysed", "analysed/s", "CPU s (net)", "fps/core", "× ref",
         "cost vs full decode", "cameras/core"], rows, markdown))
    notes = [f"- {c.clip.name} {m.mode}: {n}" for c in report.clips for m in c.modes for n in m.notes]
    if notes:
        parts += ["", "Notes:", *notes]
    return "\n".join(parts)
