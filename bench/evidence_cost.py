"""What zone-level evidence adds to a camera's CPU time at the default rates.

One camera's analysed frames (a shared clip at 2 frames/s) go through what a worker does per frame: detect,
track, zones and rules. The same frames run twice per round, alternating which goes first: once without
zone-level evidence, once with the segmenter and a trained zone classifier on every zone at their default
rates. The frame count is rounded to a multiple of the segmenter's rate, so both rates fire their exact share.
CPU time is this process's (all threads), which is what a camera costs a shared worker.

Run:  streetwatch bench evidence [--clip CLIP] [--repeats 3]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel

from bench.common import Machine, Stat
from bench.detect import load_frames
from detector import Detector, DetectorConfig, TrackerConfig
from models.registry import current_assets_dir
from streams import Frame
from worker.config import CameraConfig
from worker.pipeline import CameraPipeline
from worker.zone_readings import ClassifierConfig, SceneReadingConfig, ZoneReader
from zones import RulesConfig, ZoneConfig
from zones.classifier import ZoneClassifier

ZONES = [  # the residential street as an operator would zone it for every class
    ZoneConfig(id="street", kind="road", polygon=[(0.0, 0.30), (1.0, 0.12), (1.0, 1.0), (0.0, 1.0)]),
    ZoneConfig(id="far-kerb", kind="general", polygon=[(0.08, 0.30), (0.50, 0.20), (0.50, 0.40), (0.12, 0.46)]),
    ZoneConfig(id="near-kerb", kind="bin_area", polygon=[(0.0, 0.64), (0.75, 0.80), (0.75, 0.95), (0.0, 0.82)]),
]


class EvidenceCost(BaseModel):
    machine: Machine
    clip: str
    frames: int
    cpu_ms_per_frame_without: Stat
    cpu_ms_per_frame_with: Stat
    segmented_per_round: int
    scored_per_round: int

    @property
    def added(self) -> float:
        """CPU time the evidence adds, as a share of the camera's time without it."""
        return self.cpu_ms_per_frame_with.median / self.cpu_ms_per_frame_without.median - 1.0


def _heads(source: ZoneReader, camera: CameraConfig, image: np.ndarray) -> None:
    """A head on every zone, for its cost: trained on the zone's own crops with made-up labels."""
    for zone in camera.zones:
        embedding = source.embed_zone(camera.id, image, zone.id)
        assert embedding is not None
        noise = np.random.default_rng(7).normal(0, 0.05, (8, embedding.size))
        x = embedding[None, :] + noise
        head = ZoneClassifier.fit(x, [True, False] * 4, source.classifier_config.encoder.variant)
        for problem in zone.classes:
            source.set_head(camera.id, zone.id, problem, head)


def _round(detector: Detector, camera: CameraConfig, images: list[np.ndarray], with_evidence: bool
           ) -> tuple[float, int, int]:
    source = ZoneReader(SceneReadingConfig(enabled=with_evidence), ClassifierConfig(enabled=with_evidence))
    source.set_zones(camera.id, camera.zones)
    if with_evidence:
        _heads(source, camera, images[0])
    pipeline = CameraPipeline(camera, RulesConfig.model_validate({}), TrackerConfig(), detector.labels,
                              zone_level=source.classes_for(camera.id))
    started = time.process_time()
    for index, image in enumerate(images):
        frame = Frame(camera.id, index / 2.0, index, image)
        detections = detector.detect([image])[0]
        source.measure([frame])
        pipeline.process(frame, detections, source.latest(camera.id))
    return time.process_time() - started, source.segmented, source.scored


def measure_evidence_cost(clip: Path | None = None, frames: int = 120, repeats: int = 3,
                          progress: Callable[[str], None] = lambda _m: None) -> EvidenceCost:
    clip = clip or current_assets_dir() / "video" / "residential-street-parked-cars.mp4"
    every = SceneReadingConfig().every_n_frames
    frames = max(every, frames - frames % every)
    images = load_frames(clip, frames, fps=2.0)
    height, width = images[0].shape[:2]
    if (width, height) != (640, 360):
        images = [cv2.resize(image, (640, 360)) for image in images]
    camera = CameraConfig(id="bench", source={"url": str(clip), "analysis_fps": 2.0}, zones=ZONES)
    detector = Detector(DetectorConfig())
    _round(detector, camera, images[:every], True)  # warm-up: models loaded, caches filled
    without, with_, segmented, scored = [], [], 0, 0
    for index in range(repeats):
        order = (False, True) if index % 2 == 0 else (True, False)
        for with_evidence in order:
            cpu_s, segmented_now, scored_now = _round(detector, camera, images, with_evidence)
            (with_ if with_evidence else without).append(cpu_s * 1000 / len(images))
            if with_evidence:
                segmented, scored = segmented_now, scored_now
            progress(f"round {index + 1}: {'with' if with_evidence else 'without'} {cpu_s:.1f} s CPU")
    return EvidenceCost(machine=Machine.current(), clip=clip.name, frames=len(images),
                        cpu_ms_per_frame_without=Stat.of(without), cpu_ms_per_frame_with=Stat.of(with_),
                        segmented_per_round=segmented, scored_per_round=scored)


def render(report: EvidenceCost) -> str:
    return "\n".join([
        f"Zone-level evidence on {report.clip}, {report.frames} analysed frames at 2/s, 3 zones; "
        f"{report.segmented_per_round} segmentations and {report.scored_per_round} zone crops embedded for the "
        f"classifiers a round; "
        f"load {report.machine.load_1min} on {report.machine.cores_usable} cores.",
        "",
        "| per analysed frame | CPU ms (median, low-high) | × without |",
        "|---|---|---|",
        f"| detect + track + rules | {report.cpu_ms_per_frame_without.fmt(1)} | 1.00 |",
        f"| + segmenter (1 in {SceneReadingConfig().every_n_frames}) + zone classifiers (1 in "
        f"{ClassifierConfig().every_n_frames}) | {report.cpu_ms_per_frame_with.fmt(1)} | "
        f"{1 + report.added:.2f} |",
        "",
        f"Added: {report.added:+.0%} of the camera's CPU time.",
    ])
