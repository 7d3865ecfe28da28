"""`streetwatch bench precision`: float32 against the runtime's own choice, on the shared truth and the clock.

The default (`detector.precision: f32`) exists because OpenVINO takes bfloat16 by itself on CPUs with
AVX-512 BF16 or AMX, and the shared truth then scored lower. This report keeps that difference visible
on whatever CPU it runs: per precision, the precision the runtime actually used, the truth's scores,
the events one precision raised and the other did not, and inference time per frame, rounds interleaved
so that both see the same machine load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from bench.common import Machine, Stat, table
from bench.detect import load_frames
from detector import Detector, DetectorConfig
from models.precision import PRECISIONS
from models.registry import PROJECT_ROOT, current_assets_dir

DEFAULT_TRUTH = PROJECT_ROOT / "tests" / "data" / "truth-shared-clips.yaml"
TIMING_CLIP = "residential-street-parked-cars.mp4"


class PrecisionRun(BaseModel):
    configured: str
    in_use: str  # what the runtime reported after compiling
    f1: float | None
    events: int
    hits: int
    false_alerts: int
    missed: int
    ms_per_frame: Stat
    false_alert_list: list[str]  # clip, class, zone, start, box of each alert no labelled episode explains


class PrecisionReport(BaseModel):
    machine: Machine
    cpu_bf16: bool  # OpenVINO reports BF16 among the CPU's optimisation capabilities
    truth: str
    model: str
    frames: int
    repeats: int
    runs: list[PrecisionRun]


def _cpu_bf16() -> bool:
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _episodes(truth_path: Path, detector: Detector) -> tuple[dict[str, float | int | None], list[str]]:
    """The truth's overall scores with this detector, and each false alert in words."""
    from evaluation import load_truth, run_clips, score_clip, summarise

    truth = load_truth(truth_path)
    runs = run_clips(truth, detector)
    scores = [score_clip(run.scoring_input()) for run in runs]
    summary = summarise(scores)
    false = [f"{score.clip.name} {r.span.problem.value} {r.span.zone_id} at {r.span.start_s:.1f} s, box "
             f"{', '.join(f'{v:.2f}' for v in r.span.box or ())}"
             for score in scores for r in score.raised if r.status.value == "false"]
    o = summary.overall
    return {"f1": o.f1, "events": o.events, "hits": o.hits, "false": o.false_alerts, "missed": o.missed}, false


def run_precision_bench(truth_path: Path | None = None, frames: int = 40, repeats: int = 3,
                        progress: Callable[[str], None] = lambda _msg: None) -> PrecisionReport:
    """Score the truth at each precision, then time `frames` frames per round, precisions interleaved."""
    if repeats < 1 or frames < 1:
        raise ValueError("repeats and frames must be at least 1")
    truth_path = Path(truth_path or DEFAULT_TRUTH)
    detectors = {p: Detector(DetectorConfig(precision=p)) for p in PRECISIONS}  # type: ignore[arg-type]
    scores: dict[str, dict[str, float | int | None]] = {}
    false: dict[str, list[str]] = {}
    for precision, detector in detectors.items():
        progress(f"shared truth at {precision}")
        scores[precision], false[precision] = _episodes(truth_path, detector)
    images = load_frames(current_assets_dir() / "video" / TIMING_CLIP, frames)
    times: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for round_index in range(repeats):
        progress(f"timing round {round_index + 1}/{repeats}")
        for precision, detector in detectors.items():
            started = time.perf_counter()
            for image in images:
                detector.detect([image])
            times[precision].append((time.perf_counter() - started) * 1000 / len(images))
    runs = []
    for precision, detector in detectors.items():
        s = scores[precision]
        runs.append(PrecisionRun(
            configured=precision, in_use=", ".join(str(v) for v in detector.precisions.values()),
            f1=s["f1"], events=int(s["events"] or 0), hits=int(s["hits"] or 0),
            false_alerts=int(s["false"] or 0), missed=int(s["missed"] or 0), ms_per_frame=Stat.of(times[precision]),
            false_alert_list=false[precision]))
    first = next(iter(detectors.values()))
    return PrecisionReport(machine=Machine.current(), cpu_bf16=_cpu_bf16(), truth=str(truth_path),
                           model=first.models[0].name, frames=frames, repeats=repeats, runs=runs)


def render(report: PrecisionReport, markdown: bool) -> str:
    header = ["configured", "in use", "F1", "events", "hits", "false", "missed", "ms/frame (median, low-high)",
              "false alerts"]
    rows = [[r.configured, r.in_use, f"{r.f1:.3f}" if r.f1 is not None else "-", str(r.events), str(r.hits),
             str(r.false_alerts), str(r.missed), r.ms_per_frame.fmt(1), "; ".join(r.false_alert_list) or "-"]
            for r in report.runs]
    intro = (f"{report.model} on {report.machine.cpu} ({report.machine.cores} cores, load "
             f"{report.machine.load_1min}); CPU computes bfloat16: {'yes' if report.cpu_bf16 else 'no'}; "
             f"truth {Path(report.truth).name}; {report.frames} frames x {report.repeats} rounds")
    return intro + "\n\n" + table(header, rows, markdown)
