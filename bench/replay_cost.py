"""Whole-pipeline CPU per analysed frame: the same clip replayed with two models, side by side.

The default model decides what a camera costs; this measures what changing it changes for the whole
pipeline (decode, detection, tracking, zones and rules, evidence), not for inference alone. Each model
is loaded once (start-up is not what a running worker pays per frame), then the clip is replayed
through `worker.replay` with one model, then the other, round after round, so that load from other
jobs falls on both alike. Episodes are counted per run: a cheaper model must raise the same ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from bench.common import Machine, Stat, table
from detector import Detector, DetectorConfig
from settings import DEMO_CONFIG, load_config
from streams import SourceConfig
from worker import replay


class ReplayCost(BaseModel):
    model: str
    frames: int
    episodes: int
    cpu_ms_per_frame: Stat
    wall_ms_per_frame: Stat
    cpu_vs_first: Stat  # CPU per frame over the first model's, round by round


class ReplayCostReport(BaseModel):
    machine: Machine
    clip: str
    config: str
    repeats: int
    models: list[ReplayCost]


def run_replay_cost(
    models: list[str],
    clip: Path | None = None,
    config: Path = DEMO_CONFIG,
    repeats: int = 3,
    device: str = "cpu",
    progress: Callable[[str], None] = lambda _msg: None,
) -> ReplayCostReport:
    """Replay `clip` (default: the configuration's first camera's) with each model, `repeats` rounds."""
    if len(models) < 1 or repeats < 1:
        raise ValueError("give at least one model and one round")
    settings = load_config(config)
    camera = settings.cameras[0]
    source = camera.source.model_dump(exclude={"url", "analysis_url", "loop", "realtime"})
    clip = Path(clip or camera.source.url)
    camera = camera.model_copy(update={"source": SourceConfig(url=str(clip), **source)})
    detectors = []
    for model in models:
        progress(f"loading {model}")
        detectors.append(Detector(DetectorConfig(model=model, device=device)))
    cpu: list[list[float]] = [[] for _ in models]
    wall: list[list[float]] = [[] for _ in models]
    frames = [0] * len(models)
    episodes = [0] * len(models)
    for round_ in range(repeats + 1):  # round 0 warms up and is not counted
        progress(f"round {round_}/{repeats}" + (" (warm-up)" if round_ == 0 else ""))
        for i, detector in enumerate(detectors):
            c0, w0 = time.process_time(), time.perf_counter()
            run = replay(settings, camera, lambda _events: None, None, detector)
            c1, w1 = time.process_time(), time.perf_counter()
            frames[i], episodes[i] = run.frames, sum(1 for e in run.events if e.state == "start")
            if round_:
                cpu[i].append((c1 - c0) * 1000 / run.frames)
                wall[i].append((w1 - w0) * 1000 / run.frames)
    rows = [
        ReplayCost(
            model=model,
            frames=frames[i],
            episodes=episodes[i],
            cpu_ms_per_frame=Stat.of(cpu[i]),
            wall_ms_per_frame=Stat.of(wall[i]),
            cpu_vs_first=Stat.of(c / b for c, b in zip(cpu[i], cpu[0], strict=True)),
        )
        for i, model in enumerate(models)
    ]
    return ReplayCostReport(machine=Machine.current(), clip=str(clip), config=str(config), repeats=repeats, models=rows)


def render(report: ReplayCostReport, markdown: bool = False) -> str:
    rows = [
        [
            Path(r.model).name,
            str(r.frames),
            str(r.episodes),
            r.cpu_ms_per_frame.fmt(1),
            r.wall_ms_per_frame.fmt(1),
            r.cpu_vs_first.fmt(2),
        ]
        for r in report.models
    ]
    header = ["model", "analysed frames", "episodes", "CPU ms/frame", "wall ms/frame", "CPU × first"]
    return "\n".join(
        [
            f"Machine: {report.machine.describe()}",
            f"Whole pipeline, {Path(report.clip).name} with {Path(report.config).name}'s first camera, "
            f"{report.repeats} rounds after a warm-up, medians (lowest-highest)",
            "",
            table(header, rows, markdown),
        ]
    )
