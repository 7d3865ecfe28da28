"""`streetwatch bench pipeline`: how many cameras one core carries, and where that core's time goes.

N cameras (the shared clips, looped and paced at their own rate like live cameras) run through one
`worker.Worker`, the class `streetwatch worker` runs, pinned to one CPU, at `analysis_fps` analysed
frames per camera-second, in key-frame and in full-decode mode. A run **keeps up** when the cameras
dropped no frame and the worker analysed what they offered (its queues stayed bounded). CPU per
analysed frame is split by thread and stage: decoding (the feed threads), inference (the detector
call and the runtime's own threads), zone-level evidence, tracking, zones and rules, publishing
(evidence snapshots and the event publisher's thread), other. Then the whole pipeline's frames/s,
decoding included, against raw Ultralytics `predict` on the same frames, both on the one core.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from bench.common import Machine, Stat, default_cpu, percentile, pinned
from bench.pipeline_setup import bench_cameras, bench_settings, bench_sink, raw_predict_fps
from bus import SpoolingPublisher
from detector import Detector
from streams import Frame
from worker import Worker
from worker.stages import STAGES, thread_cpu_seconds
from zones import Event

DecodeMode = Literal["keyframes", "all"]
SPLIT = ("decode", *STAGES, "other")


class PipelineRun(BaseModel):
    decode: DecodeMode
    cameras: int
    window_s: float
    offered: int  # frames the cameras handed to the worker in the window
    analysed: int  # frames through the whole pipeline in the window
    dropped: int  # frames a camera's full queue pushed out
    events: int  # events handed to the bus in the window (the event rate the case API must take)
    max_queued: int  # most frames waiting at once, all cameras together
    core_share: float  # process CPU seconds per wall second: 1.0 is the whole core
    cpu_ms_per_frame: float
    split_ms: dict[str, float]  # CPU per analysed frame by stage (SPLIT)
    age_p50_ms: float | None  # a frame's decoding to its events handed to the bus
    age_p99_ms: float | None
    keeps_up: bool


class Throughput(BaseModel):
    decode: DecodeMode
    frames: int
    pipeline_fps: Stat  # worker, decoding included, clips as fast as they go
    raw_predict_fps: Stat  # ultralytics YOLO.predict alone on the same frames, already decoded
    ratio: Stat  # round by round


class PipelineReport(BaseModel):
    machine: Machine
    cpu: int | None
    model: str
    analysis_fps: float
    clips: list[str]
    runs: list[PipelineRun]
    carried: dict[str, int]  # decode mode -> most cameras that kept up
    throughput: list[Throughput]


class _Ages:
    """Frame-to-hand-over latency of every analysed frame in the window (bounded by the window's frames)."""

    def __init__(self) -> None:
        self.counting = False
        self.values: list[float] = []

    def __call__(self, frame: Frame, _events: list[Event]) -> None:
        if self.counting:
            self.values.append(time.time() - frame.captured_at)


@dataclass(frozen=True)
class _Counters:
    """Everything a run reads at the start and at the end of its window; the run is their difference."""

    offered: int
    analysed: int
    dropped: int
    events: int
    process_cpu_s: float
    thread_cpu_s: dict[int, float]
    stage_cpu_s: dict[str, float]

    @classmethod
    def read(cls, worker: Worker, sink: SpoolingPublisher) -> _Counters:
        feeds = worker.feeds.values()
        return cls(offered=sum(f.health.frames_analysed for f in feeds), analysed=sum(worker.frames_processed.values()),
                   dropped=sum(f.health.frames_dropped for f in feeds), events=sink.handed_over,
                   process_cpu_s=time.process_time(), thread_cpu_s=thread_cpu_seconds(),
                   stage_cpu_s=worker.stages.snapshot())


def _split(worker: Worker, start: _Counters, end: _Counters, named: dict[int | None, str]) -> dict[str, float]:
    """CPU seconds in the window per SPLIT entry, from per-thread CPU and the inference thread's stage clock;
    `named`: the Python threads alive at the window's end, by native id (the rest are the runtime's)."""
    spent = {tid: cpu - start.thread_cpu_s.get(tid, 0.0) for tid, cpu in end.thread_cpu_s.items()}
    feeds = {feed.native_id for feed in worker.feeds.values()}
    inference_tid = worker.inference_thread_id
    stage = {name: end.stage_cpu_s[name] - start.stage_cpu_s[name] for name in STAGES}
    split = dict.fromkeys(SPLIT, 0.0) | stage
    split["decode"] = sum(s for tid, s in spent.items() if tid in feeds)
    split["other"] = max(0.0, spent.get(inference_tid or -1, 0.0) - sum(stage.values()))
    for tid, seconds in spent.items():
        if tid in feeds or tid == inference_tid:
            continue
        name = named.get(tid)
        if name is None:  # a native thread: the inference runtime's pool (decoders run single-threaded here)
            split["inference"] += seconds
        elif name == "event-publisher":
            split["publishing"] += seconds
        else:
            split["other"] += seconds
    return split


def kept_up(offered: int, analysed: int, dropped: int, queued_before: int, core_share: float,
            one_core: bool = True) -> bool:
    """A window kept up when no frame was dropped and all that was offered was analysed, give or take what the
    queues held when it began (`queued_before`), on no more than the one core (2 % for the clock's grain).

    A runtime whose threads leave the pinned CPU (ONNX Runtime sets its own affinity) is not one core carrying it.
    """
    return dropped == 0 and analysed >= offered - queued_before and (core_share <= 1.02 or not one_core)


def measure_cameras(detector: Detector, clips: list[Path], cameras: int, decode: DecodeMode, analysis_fps: float,
                    warmup_s: float, window_s: float, redis_url: str | None = None,
                    one_core: bool = True) -> PipelineRun:
    """One worker with `cameras` live-paced cameras: counters over `window_s` after `warmup_s`."""
    settings = bench_settings(detector, redis_url)
    ages = _Ages()
    with tempfile.TemporaryDirectory(prefix="streetwatch-bench-") as scratch, \
            bench_sink(settings, Path(scratch)) as (sink, evidence):
        worker = Worker(settings, sink, evidence, detector=detector, on_analysed=ages,
                        cameras=bench_cameras(clips, cameras, decode, analysis_fps, live=True))
        worker.start()
        try:
            time.sleep(warmup_s)  # a benchmark waits on the wall clock: the cameras are paced by it
            start = _Counters.read(worker, sink)
            ages.counting, t0, max_queued = True, time.monotonic(), 0
            while time.monotonic() - t0 < window_s:
                max_queued = max(max_queued, sum(worker.queues.pending(c) for c in worker.feeds))
                time.sleep(0.1)
            ages.counting = False
            end = _Counters.read(worker, sink)
            named = {t.native_id: t.name for t in threading.enumerate()}
            wall = time.monotonic() - t0
        finally:
            worker.stop()
            worker.join(30)
    offered, analysed, dropped = end.offered - start.offered, end.analysed - start.analysed, end.dropped - start.dropped
    split = _split(worker, start, end, named)
    per_frame = 1000 / max(analysed, 1)
    cpu_s = end.process_cpu_s - start.process_cpu_s
    core_share = cpu_s / wall
    keeps_up = kept_up(offered, analysed, dropped, settings.scheduler.queue_size * cameras, core_share, one_core)
    return PipelineRun(
        decode=decode, cameras=cameras, window_s=round(wall, 2), offered=offered, analysed=analysed,
        dropped=dropped, events=end.events - start.events, max_queued=max_queued, core_share=core_share,
        cpu_ms_per_frame=cpu_s * per_frame,
        split_ms={k: v * per_frame for k, v in split.items()},
        age_p50_ms=1000 * percentile(ages.values, 0.5) if ages.values else None,
        age_p99_ms=1000 * percentile(ages.values, 0.99) if ages.values else None, keeps_up=keeps_up,
    )


def _worker_fps(detector: Detector, clips: list[Path], decode: DecodeMode, analysis_fps: float,
                redis_url: str | None) -> tuple[int, float]:
    """Each clip once as a camera, as fast as the core goes: analysed frames and frames/s after start-up.

    Models load at their first frame, so the first two analysed frames of every camera are left out of
    the rate, which runs from there to the last frame.
    """
    settings = bench_settings(detector, redis_url)
    done: list[float] = []
    with tempfile.TemporaryDirectory(prefix="streetwatch-bench-") as scratch, \
            bench_sink(settings, Path(scratch)) as (sink, evidence):
        worker = Worker(settings, sink, evidence, detector=detector, on_analysed=lambda *_: done.append(time.time()),
                        cameras=bench_cameras(clips, len(clips), decode, analysis_fps, live=False))
        worker.start()
        worker.join()
    skip = 2 * len(clips)
    if len(done) < skip + 10:
        raise RuntimeError(f"the clips gave {len(done)} analysed frames; the throughput needs {skip + 10} at least")
    return len(done), (len(done) - 1 - skip) / (done[-1] - done[skip])


def measure_throughput(detector: Detector, clips: list[Path], decode: DecodeMode, analysis_fps: float,
                       repeats: int, redis_url: str | None = None) -> Throughput:
    """The worker against raw `predict` on the same frames, alternating round by round so load falls on both."""
    frames, pipeline, raw = 0, [], []
    for _ in range(repeats):
        frames, fps = _worker_fps(detector, clips, decode, analysis_fps, redis_url)
        pipeline.append(fps)
        raw.append(raw_predict_fps(detector, clips, decode, analysis_fps))
    return Throughput(decode=decode, frames=frames, pipeline_fps=Stat.of(pipeline), raw_predict_fps=Stat.of(raw),
                      ratio=Stat.of(p / r for p, r in zip(pipeline, raw, strict=True)))


def next_count(done: list[PipelineRun], limit: int, one_core: bool = True) -> int | None:
    """The next camera count of a search, or None when it is settled.

    Up from the most that kept up towards 90% of the core at its measured cost (at least one more; twice as
    many on a GPU, where the core is not the limit), until a count falls behind; then halving the gap between
    the most that kept up and the fewest that did not.
    """
    kept = [r for r in done if r.keeps_up]
    fewest_failed = min((r.cameras for r in done if not r.keeps_up), default=None)
    if not kept:  # even the first count fell behind: try fewer
        return None if fewest_failed is None or fewest_failed <= 1 else fewest_failed // 2
    best = max(kept, key=lambda r: r.cameras)
    if fewest_failed is None:
        if best.cameras >= limit:
            return None
        if not one_core:
            return min(limit, 2 * best.cameras)
        return min(limit, max(best.cameras + 1, int(0.9 * best.cameras / max(best.core_share, 1e-3))))
    if fewest_failed - best.cameras <= 1:
        return None
    return (best.cameras + fewest_failed) // 2


def run_pipeline_bench(
    clips: list[Path],
    decode_modes: tuple[DecodeMode, ...] = ("keyframes", "all"),
    cameras: list[int] | None = None,
    analysis_fps: float = 1.0,
    warmup_s: float = 10.0,
    window_s: float = 30.0,
    cpu: int | None = None,
    model: str | None = None,
    max_runs: int = 6,
    repeats: int = 3,
    redis_url: str | None = None,
    device: str = "cpu",
    progress: Callable[[str], None] = lambda _msg: None,
) -> PipelineReport:
    """Cameras one core carries per decode mode (the counts given, else a search from one per clip), then throughput.

    On a GPU (`device` '0', ...) nothing is pinned: the figure is cameras per GPU, with the host's CPUs decoding.
    """
    from detector import DetectorConfig

    one_core = device == "cpu"
    cpu = (default_cpu() if cpu is None else cpu) if one_core else None
    runs: list[PipelineRun] = []
    carried: dict[str, int] = {}
    throughput: list[Throughput] = []
    with pinned(cpu):  # loaded inside: the runtime sizes its thread pool to the one CPU
        config = DetectorConfig(model=model) if model else bench_settings(None).detector
        detector = Detector(config.model_copy(update={"device": device}))
        for decode in decode_modes:
            counts = list(cameras or [len(clips)])  # every clip at least once: the mix decides the decoding
            mode_runs: list[PipelineRun] = []
            for _ in range(max_runs if cameras is None else len(counts)):
                if not counts:
                    break
                count = counts.pop(0)
                progress(f"{decode}: {count} cameras, {warmup_s:.0f} s warm-up + {window_s:.0f} s measured")
                run = measure_cameras(detector, clips, count, decode, analysis_fps, warmup_s, window_s, redis_url,
                                      one_core)
                progress(f"  core {run.core_share:.2f}, {run.cpu_ms_per_frame:.0f} ms/frame, "
                         f"dropped {run.dropped}, {'keeps up' if run.keeps_up else 'falls behind'}")
                mode_runs.append(run)
                following = next_count(mode_runs, 64 if one_core else 512, one_core) if cameras is None else None
                if following is not None:
                    counts.append(following)
            runs += mode_runs
            kept = [r.cameras for r in mode_runs if r.keeps_up]
            carried[decode] = max(kept, default=0)
            progress(f"{decode}: throughput against raw predict")
            throughput.append(measure_throughput(detector, clips, decode, analysis_fps, repeats, redis_url))
    return PipelineReport(machine=Machine.current(), cpu=cpu, model=detector.models[0].path,
                          analysis_fps=analysis_fps, clips=[c.name for c in clips], runs=runs,
                          carried=carried, throughput=throughput)


def render(report: PipelineReport) -> str:
    """Markdown tables for docs/performance.md."""
    head = ["| decode | cameras | offered | analysed | dropped | max queued | core | CPU ms/frame | "
            + " | ".join(SPLIT) + " | age p50/p99 ms | keeps up |",
            "|" + "---|" * (10 + len(SPLIT))]
    for r in report.runs:
        ages = f"{r.age_p50_ms:.0f} / {r.age_p99_ms:.0f}" if r.age_p50_ms is not None and r.age_p99_ms else "-"
        split = " | ".join(f"{r.split_ms[k]:.1f}" for k in SPLIT)
        head.append(f"| {r.decode} | {r.cameras} | {r.offered} | {r.analysed} | {r.dropped} | {r.max_queued} | "
                    f"{r.core_share:.2f} | {r.cpu_ms_per_frame:.1f} | {split} | {ages} | "
                    f"{'yes' if r.keeps_up else 'no'} |")
    carried = ", ".join(f"{mode}: **{n}**" for mode, n in report.carried.items())
    where = f"pinned to CPU {report.cpu}" if report.cpu is not None else "not pinned (a GPU)"
    lines = [f"{report.machine.describe()}; {where}; model {report.model}; "
             f"{report.analysis_fps} analysed frames/s per camera; clips {', '.join(report.clips)}", "",
             *head, "", f"Cameras one core carries while keeping up: {carried}", "",
             "| decode | frames | whole pipeline frames/s | raw predict frames/s | ratio |", "|---|---|---|---|---|"]
    lines += [f"| {t.decode} | {t.frames} | {t.pipeline_fps.fmt(2)} | {t.raw_predict_fps.fmt(2)} | "
              f"**{t.ratio.fmt(2)}** |" for t in report.throughput]
    if report.runs:
        median_cpu = statistics.median(r.cpu_ms_per_frame for r in report.runs)
        lines.append(f"\nMedian CPU per analysed frame over the runs: {median_cpu:.1f} ms")
    return "\n".join(lines)
