"""Scene evidence on the shared footage: water shares per zone, the baseline's effect, and what it costs.

Three measurements, each printed as a Markdown table (docs/scene-and-classifiers.md holds a run):

1. water share of two wet images and every shared clip (none shows standing water), per zone;
2. excess over a baseline learned from the first half of each clip's frames: on the clip's second
   half, and for the wet images as if that camera had seen them;
3. cost per frame of each segmenter variant, one frame per call and batched, against a YOLO detect
   of the same frames through `detector.Detector` in the same run, and at one analysed frame in ten.

Run from the project root:  python -m bench.scene_evidence [--fps 1] [--json var/scene-evidence.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from detector.scene import SceneConfig, SceneMap, SceneSegmenter, letterbox
from models.registry import current_assets_dir
from streams import FileSource, SourceConfig
from zones.scene import BaselineConfig, SceneBaseline, zone_shares

ZONES: dict[str, list[tuple[float, float]]] = {
    "frame": [(0, 0), (1, 0), (1, 1), (0, 1)],
    "lower half": [(0, 0.5), (1, 0.5), (1, 1), (0, 1)],  # where the ground is in these street views
}
WET_IMAGES = ("flooded-street.jpg", "water-filled-pothole.jpg")
OTHER_IMAGES = ("pothole.jpg", "bus.jpg")  # a dry close-up of a pothole; a dry street
# A zone drawn round the puddle of water-filled-pothole.jpg, as an operator would draw one where water collects.
PUDDLE_ZONE = [(0.2, 0.45), (0.8, 0.45), (0.8, 0.95), (0.2, 0.95)]


def clip_frames(path: Path, fps: float, min_frames: int) -> list[np.ndarray]:
    """Frames at `fps` of clip time, more often for a clip too short to give `min_frames` (a baseline needs some)."""
    frames = [frame.image for frame in FileSource("bench", SourceConfig(url=str(path), analysis_fps=fps))]
    if 0 < len(frames) < min_frames:
        faster = fps * -(-min_frames // len(frames))
        frames = [frame.image for frame in FileSource("bench", SourceConfig(url=str(path), analysis_fps=faster))]
    return frames


def water(scene_map: SceneMap, zones: dict[str, list[tuple[float, float]]] = ZONES) -> dict[str, float]:
    return {zone: shares["water"] for zone, shares in zone_shares(scene_map, zones).items()}


def shares_table(segmenters: dict[str, SceneSegmenter], images: dict[str, np.ndarray],
                 clips: dict[str, list[np.ndarray]]) -> tuple[str, dict]:
    """Water share per zone: images once, clips as mean and max over their frames."""
    head = "| source | frames | " + " | ".join(f"{v}: {z}" for v in segmenters for z in ZONES) + " |"
    lines = [head, "|---|---|" + "---|" * (len(segmenters) * len(ZONES))]
    figures: dict = {}
    for name, image in images.items():
        cells, figures[name] = [], {}
        for variant, segmenter in segmenters.items():
            zones = {**ZONES, "puddle": PUDDLE_ZONE} if name == "water-filled-pothole.jpg" else ZONES
            shares = water(segmenter.segment([image])[0], zones)
            figures[name][variant] = shares
            cells += [f"{shares[z]:.1%}" for z in ZONES]
            if "puddle" in shares:
                cells[-1] += f" (puddle zone {shares['puddle']:.0%})"
        lines.append(f"| {name} | 1 | " + " | ".join(cells) + " |")
    for name, frames in clips.items():
        cells, figures[name] = [], {}
        for variant, segmenter in segmenters.items():
            per_frame = [water(m) for m in segmenter.segment(frames)]
            figures[name][variant] = per_frame
            for zone in ZONES:
                values = [s[zone] for s in per_frame]
                cells.append(f"{statistics.mean(values):.1%} (max {max(values):.1%})")
        lines.append(f"| {name} | {len(frames)} | " + " | ".join(cells) + " |")
    return "\n".join(lines), figures


def baseline_table(figures: dict, variant: str) -> tuple[str, dict]:
    """Learn each clip's baseline on its first half, measure excess on its second half and on the wet images."""
    lines = [
        "| clip | zone | clear frames | level | max excess, later frames | "
        + " | ".join(f"excess {w}" for w in WET_IMAGES) + " |",
        "|---|---|---|---|---|" + "---|" * len(WET_IMAGES),
    ]
    results: dict = {}
    for clip, per_frame in figures.items():
        if clip in WET_IMAGES or clip in OTHER_IMAGES:
            continue
        frames = per_frame[variant]
        half = max(BaselineConfig().min_samples, len(frames) // 2)
        learn, later = frames[:half], frames[half:]
        baseline = SceneBaseline()
        for shares in learn:
            baseline.learn({zone: {"water": share} for zone, share in shares.items()})
        for zone in ZONES:
            level = baseline.level(zone, "water")
            later_excess = [max(0.0, s[zone] - level) for s in later] if level is not None else []
            wet = [max(0.0, figures[w][variant][zone] - level) if level is not None else float("nan")
                   for w in WET_IMAGES]
            results[f"{clip}/{zone}"] = {"level": level, "later_excess": later_excess, "wet_excess": wet}
            worst = f"{max(later_excess):.1%}" if later_excess else "-"
            lines.append(f"| {clip} | {zone} | {len(learn)} | {level:.1%} | {worst} ({len(later)} frames) | "
                         + " | ".join(f"{w:.1%}" for w in wet) + " |")
    return "\n".join(lines), results


def separation_table(figures: dict, baselines: dict) -> str:
    """Can one threshold part dry frames from wet images? On raw shares, and on excess over each camera's level."""
    lines = [
        "| variant | zone | raw: max over dry clip frames | raw: " + " / ".join(WET_IMAGES)
        + " | excess: max over dry later frames | excess: " + " / ".join(WET_IMAGES) + " (lowest-highest over clips) |",
        "|---|---|---|---|---|---|",
    ]
    clips = [name for name in figures if name not in WET_IMAGES + OTHER_IMAGES]
    for variant, results in baselines.items():
        for zone in ZONES:
            dry_raw = max(s[zone] for clip in clips for s in figures[clip][variant])
            wet_raw = " / ".join(f"{figures[w][variant][zone]:.1%}" for w in WET_IMAGES)
            mine = [r for key, r in results.items() if key.endswith(f"/{zone}")]
            dry_excess = max((e for r in mine for e in r["later_excess"]), default=float("nan"))
            wet_excess = " / ".join(
                f"{min(r['wet_excess'][i] for r in mine):.1%}-{max(r['wet_excess'][i] for r in mine):.1%}"
                for i in range(len(WET_IMAGES))
            )
            lines.append(f"| {variant} | {zone} | {dry_raw:.1%} | {wet_raw} | {dry_excess:.1%} | {wet_excess} |")
    return "\n".join(lines)


def cost_table(frames: list[np.ndarray], threads: int, batch: int, repeats: int) -> tuple[str, dict]:
    """ms per frame of each variant (one frame per call, `batch` per call) and of a YOLO detect of the same
    frames, interleaved round by round so that other jobs on the machine weigh on all alike; ratios are
    taken per round against that round's YOLO time, then the median."""
    from detector import Detector, DetectorConfig

    detector = Detector(DetectorConfig())
    runs: dict[str, Callable[[], object]] = {"yolo": lambda: [detector.detect([f]) for f in frames]}
    maps: dict[str, list[SceneMap]] = {}
    for variant in ("ade20k150", "ade20k32-int8"):
        single = SceneSegmenter(SceneConfig(variant=variant, threads=threads))
        batched = SceneSegmenter(SceneConfig(variant=variant, threads=threads, max_batch=batch))
        maps[variant] = single.segment(frames)
        runs[f"{variant} letterbox"] = lambda s=single: [letterbox(f, s.size) for f in frames]
        runs[f"{variant} single"] = lambda s=single: [s.segment([f]) for f in frames]
        runs[f"{variant} batch"] = lambda s=batched: s.segment(frames)
        runs[f"{variant} shares"] = lambda ms=maps[variant]: [zone_shares(m, ZONES) for m in ms]
    for run in runs.values():
        run()  # warm-up: first calls allocate
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            c0, w0 = time.process_time(), time.perf_counter()
            run()
            wall[name].append((time.perf_counter() - w0) * 1000 / len(frames))
            cpu[name].append((time.process_time() - c0) * 1000 / len(frames))
    med = {name: statistics.median(values) for name, values in wall.items()}
    costs: dict = {"wall_ms": wall, "cpu_ms": cpu}
    rows = []
    for variant in ("ade20k150", "ade20k32-int8"):
        ratios = [s / y for s, y in zip(wall[f"{variant} single"], wall["yolo"], strict=True)]
        ratio = statistics.median(ratios)
        cpu_ratio = statistics.median(cpu[f"{variant} single"]) / statistics.median(cpu["yolo"])
        rows.append(
            f"| {variant} | {med[f'{variant} single']:.0f} | {med[f'{variant} batch']:.0f} | "
            f"{med[f'{variant} letterbox']:.1f} | {med[f'{variant} shares']:.2f} | "
            f"{ratio:.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | {cpu_ratio:.2f} | {ratio / 10:.2f} |"
        )
    head = [
        f"YOLO detect (`detector.Detector`, default model) of the same frames: {med['yolo']:.0f} ms wall, "
        f"{statistics.median(cpu['yolo']):.0f} ms CPU per frame",
        "",
        f"| variant | ms/frame, 1 per call | ms/frame, {batch} per call | of which letterbox | "
        "zone_shares ms (2 zones) | × YOLO, wall (rounds' range) | × YOLO, CPU | × YOLO at 1 frame in 10 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head + rows), costs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fps", type=float, default=1.0, help="frames per second of clip time segmented")
    parser.add_argument("--min-frames", type=int, default=12, help="frames taken at least from a short clip")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4, help="frames per call in the batched timing")
    parser.add_argument("--repeats", type=int, default=5, help="timing rounds (median)")
    parser.add_argument("--cost-frames", type=int, default=8, help="frames of the residential clip timed")
    parser.add_argument("--json", type=Path, help="write every figure as JSON here")
    parser.add_argument("--costs-only", action="store_true", help="only the cost table")
    args = parser.parse_args(argv)

    assets = current_assets_dir()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    if args.costs_only:
        frames = clip_frames(assets / "video" / "residential-street-parked-cars.mp4", args.fps, args.min_frames)
        step = max(1, len(frames) // args.cost_frames)
        print(cost_table(frames[::step][: args.cost_frames], args.threads, args.batch, args.repeats)[0])
        return
    images = {name: cv2.imread(str(assets / "images" / name)) for name in WET_IMAGES + OTHER_IMAGES}
    clips = {path.name: clip_frames(path, args.fps, args.min_frames)
             for path in sorted((assets / "video").glob("*.mp4"))}
    segmenters = {v: SceneSegmenter(SceneConfig(variant=v, threads=args.threads))
                  for v in ("ade20k150", "ade20k32-int8")}
    shares_md, figures = shares_table(segmenters, images, clips)
    print("## Water share per zone\n\n" + shares_md + "\n", flush=True)
    baselines: dict = {}
    for variant in segmenters:
        md, baselines[variant] = baseline_table(figures, variant)
        print(f"## Excess over a baseline learned from the first half of each clip ({variant})\n\n{md}\n", flush=True)
    print("## Separation: dry frames against wet images\n\n" + separation_table(figures, baselines) + "\n", flush=True)
    residential = clips["residential-street-parked-cars.mp4"]
    step = max(1, len(residential) // args.cost_frames)
    cost_md, costs = cost_table(residential[::step][: args.cost_frames], args.threads, args.batch, args.repeats)
    print("## Cost per frame (640x360, wall ms, median of rounds)\n\n" + cost_md)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"water": figures, "baselines": baselines, "costs": costs}, indent=1))


if __name__ == "__main__":
    main()
