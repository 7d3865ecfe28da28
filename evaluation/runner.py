"""Replay every clip of a truth file through `worker.replay`, the code path of a live worker.

What is measured here is what a camera would raise: the same decoding, detection, tracking,
zones and rules, with time from the clip. One model is loaded and shared by all clips.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bus import SnapshotStore
from detector import Detector
from evaluation.images import ImageSetRun, run_image_set
from evaluation.scoring import ClipInput, spans_from_events
from evaluation.truth import TruthClip, TruthFile, expected_delay_s
from streams import open_source
from worker import CameraConfig, WorkerConfig, replay
from zones import Event, ProblemClass
from zones.scene import SceneBaseline, zone_shares


@dataclass
class ClipRun:
    """One clip's replay: the configuration it ran with and every event it raised."""

    index: int
    clip: TruthClip
    config: WorkerConfig
    camera: CameraConfig
    events: list[Event]
    frames: int
    duration_s: float  # video time analysed: last analysed frame plus one analysis period
    wall_s: float
    covered: frozenset[ProblemClass]  # watched classes that a rule and the model can raise

    @property
    def name(self) -> str:
        return f"{self.index + 1:02d}-{self.clip.name}"

    def scoring_input(self) -> ClipInput:
        dwell = {
            (problem, zone.id): expected_delay_s(zone.params_for(problem, self.config.rules.for_class(problem)))
            for zone in self.camera.zones for problem in zone.classes
        }
        return ClipInput(
            self.name, self.camera.id, self.duration_s,
            self.clip.spans(self.duration_s), spans_from_events(self.events), dwell, self.covered,
        )


def _expected_frames(path: str, fps: float) -> int | None:
    """How many frames the replay will analyse, from the container's duration; None if it does not say."""
    try:
        with av.open(path) as container:
            duration = container.duration
    except (av.error.FFmpegError, OSError):
        return None
    return math.ceil(duration / av.time_base * fps) if duration else None


def calibration_baseline(clip: TruthClip, config: WorkerConfig, camera: CameraConfig) -> SceneBaseline | None:
    """The clear levels an operator's "clear now" over the clip's `calibrate` spans would give: every analysed
    frame in them segmented and learnt for every zone, before the replay. None without spans or segmenter."""
    if not clip.calibrate or not config.scene.enabled:
        return None
    from detector.scene import SceneSegmenter  # loaded only for truth files that calibrate

    segmenter = SceneSegmenter(config.scene.segmenter)
    baseline = SceneBaseline()
    last = max(end for _start, end in clip.calibrate)
    for frame in open_source(camera.id, camera.source):
        if frame.ts_s > last:
            break
        if clip.in_calibration(frame.ts_s):
            baseline.learn(zone_shares(segmenter.segment([frame.image])[0], camera.zones), "calibration")
    return baseline


def run_clips(
    truth: TruthFile,
    detector: Detector | None = None,
    media_dir: Path | None = None,
    console: Console | None = None,
    only: Sequence[int] | None = None,
) -> list[ClipRun]:
    """Replay the clips (all, or the indexes in `only`) with a progress bar; evidence JPEGs go to `media_dir`."""
    detector = detector or Detector(truth.detector)
    evidence = SnapshotStore(media_dir) if media_dir is not None else None
    indexes = list(range(len(truth.clips))) if only is None else list(only)
    runs: list[ClipRun] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
               TimeElapsedColumn())
    with Progress(*columns, console=console or Console(stderr=True)) as progress:
        for index in indexes:
            clip = truth.clips[index]
            config = truth.worker_config(index)
            camera = config.cameras[0]
            task = progress.add_task(f"{index + 1:02d} {clip.name}",
                                     total=_expected_frames(clip.video, clip.analysis_fps))
            started = time.monotonic()
            run = replay(config, camera, lambda _events: None, evidence, detector,
                         on_frame=lambda _frame, task=task: progress.advance(task),
                         baseline=calibration_baseline(clip, config, camera))
            wall = time.monotonic() - started
            progress.update(task, total=run.frames, completed=run.frames)
            duration = (run.last_ts_s or 0.0) + 1.0 / clip.analysis_fps if run.frames else 0.0
            runs.append(ClipRun(index, clip, config, camera, run.events, run.frames, duration, wall, run.covered))
    return runs


def run_images(truth: TruthFile, detector: Detector | None = None, console: Console | None = None) -> list[ImageSetRun]:
    """Every image set of the truth file, each image as a still camera (evaluation/images.py)."""
    if not truth.images:
        return []
    detector = detector or Detector(truth.detector)
    config = truth.worker_config()
    runs: list[ImageSetRun] = []
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=console or Console(stderr=True)) \
            as progress:
        for image_set in truth.images:
            task = progress.add_task(f"images {image_set.name}")
            runs.append(run_image_set(image_set, config, detector))
            progress.update(task, description=f"images {image_set.name}: {len(runs[-1].results)} images")
    return runs
