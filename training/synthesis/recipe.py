"""The whole recipe, in order: cut-outs, frame pools, images, test clips, truth files, manifest.

Everything random comes from numpy generators seeded with `seed` (per image, per clip), and the
detector runs in float32, so one seed writes byte-identical labels and images on every run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

from training.synthesis.clips import TestClip, make_clip
from training.synthesis.cutouts import ATTRIBUTION, load_cutouts
from training.synthesis.frames import Detects, frame_pool
from training.synthesis.ground import GROUND
from training.synthesis.images import NEGATIVE_SHARE, ImageRecord, write_split

# Held apart by source clip: no frame of a TEST clip is ever pasted on for training.
SPLIT: dict[str, tuple[str, ...]] = {
    "train": ("residential-street-parked-cars", "london-street-1080p", "city-traffic-1080p-vp9", "highway-720p",
              "stopline-motorcycles"),
    "test": ("pedestrian-street-1080p", "night-wet-square-240p"),
}
TRAIN_CLIPS, TEST_CLIPS = SPLIT["train"], SPLIT["test"]
BAG_SPLIT = {"train": "train", "test": "valid"}  # trashbags split the bags of each side come from
NAMES = {0: "garbage", 1: "garbage_bin", 2: "overflow"}  # street-bins-cn's ids
MAX_SIDE = 960
PRESENCE_RULE = {"window_s": 10, "p_on": 0.6, "p_off": 0.15, "min_area": 0.0002}
CLIP_LICENCES = {
    "residential-street-parked-cars": "MIT (cKuhn517/cvTrafficCam)",
    "london-street-1080p": "none stated (nandinig2001/object_detection)",
    "city-traffic-1080p-vp9": "none stated (Eagleshot/IntroductionToYOLO)",
    "highway-720p": "Apache-2.0 (AdamRidene/Car-Traffic-Monitoring-App)",
    "stopline-motorcycles": "none stated (BagusDarmawan-Tech/Deteksi-Helmet-Dengan-YOLO-11)",
    "pedestrian-street-1080p": "none stated (Amirhossein-Ab/OpenCV-Social-Distancing-Detector)",
    "night-wet-square-240p": "Apache-2.0 (roboflow/inference)",
}
Progress = Callable[[str, int], Callable[[], None]]  # (stage, total) -> advance-by-one


@dataclass
class SynthResult:
    """What a run wrote: paths and counts (also in manifest.json)."""

    out: Path
    images: dict[str, list[ImageRecord]] = field(default_factory=dict)
    clips: list[TestClip] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for split, records in self.images.items():
            counts[f"{split}_images"] = len(records)
            counts[f"{split}_negatives"] = sum(not r.bags for r in records)
            counts[f"{split}_bags"] = sum(len(r.bags) for r in records)
        counts["clips_with_bag"] = sum(c.t0 is not None for c in self.clips)
        counts["clips_without_bag"] = sum(c.t0 is None for c in self.clips)
        return counts


def synthesize(out: Path, detector: Detects, *, train: int = 1500, val: int = 300, clips: int = 6,
               negative_clips: int = 4, seed: int = 0, clip_seconds: float = 40.0, pool_per_clip: int = 30,
               bag_images: int | None = None, progress: Progress | None = None) -> SynthResult:
    """Write the dataset, the test clips and their truth files under `out`."""
    track = progress or (lambda _stage, _total: lambda: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = SynthResult(out)
    bags = {side: load_cutouts(BAG_SPLIT[side], bag_images) for side in ("train", "test")}
    advance = track("frames", len(GROUND))
    pools = {}
    for clip in (*TRAIN_CLIPS, *TEST_CLIPS):
        pools[clip] = frame_pool(clip, pool_per_clip, detector, MAX_SIDE)
        advance()
    result.images["train"] = write_split(out, "train", train, list(TRAIN_CLIPS), pools, bags["train"], seed,
                                         track("train images", train))
    result.images["val"] = write_split(out, "val", val, list(TEST_CLIPS), pools, bags["test"], seed,
                                       track("val images", val))
    advance = track("test clips", clips + negative_clips)
    for k in range(clips + negative_clips):
        with_bag = k < clips
        source = TEST_CLIPS[k % len(TEST_CLIPS)]
        name = f"synth-{'bag' if with_bag else 'clear'}-{k:02d}-{source}"
        rng = np.random.default_rng([seed, 3, k])
        result.clips.append(make_clip(out / "clips" / f"{name}.mp4", source, bags["test"] if with_bag else None,
                                      rng, detector, clip_seconds))
        advance()
    _write_data_yaml(out)
    _write_truth(out, result.clips)
    _write_image_truth(out, result.images["val"])
    _write_manifest(out, result, seed, pool_per_clip)
    return result


def _write_data_yaml(out: Path) -> None:
    header = ("# CCTV-like synthetic images (`streetwatch synth`): class ids as in datasets/street-bins-cn.\n"
              "# Only class 0 is pasted; 1 and 2 are reserved so the two sets train together.\n")
    body = yaml.safe_dump({"train": "images/train", "val": "images/val", "names": NAMES}, sort_keys=False)
    (out / "data.yaml").write_text(header + body, encoding="utf-8")


def _write_truth(out: Path, clips: list[TestClip]) -> None:
    """`streetwatch eval` truth for the test clips: one ground zone each, the bag's episode from t0."""
    rows = []
    for clip in clips:
        truth = [] if clip.t0 is None else [{
            "class": "exposed_garbage", "zone": "ground", "start_s": clip.t0, "at": list(clip.at or ()),
            "note": f"synthetic bag ({clip.cutout}) dropped at {clip.t0} s"}]
        rows.append({
            "video": f"clips/{clip.path.name}", "camera_id": clip.path.stem[:64], "analysis_fps": 2,
            "zones": [{"id": "ground", "kind": "road", "classes": ["exposed_garbage"],
                       "polygon": [list(p) for p in clip.zone]}],
            "truth": truth,
        })
    header = ("# Synthetic test clips (`streetwatch synth`), held apart from training by source clip and bag photo.\n"
              "# A short presence window (10 s) so the rule can raise on 40 s clips; min_area lowered for small bags.\n"
              "#   streetwatch eval truth-clips.yaml --out var/eval-synth\n")
    body = yaml.safe_dump({"rules": {"exposed_garbage": PRESENCE_RULE}, "clips": rows}, sort_keys=False,
                          default_flow_style=None, width=120)
    (out / "truth-clips.yaml").write_text(header + body, encoding="utf-8")


def _write_image_truth(out: Path, records: list[ImageRecord]) -> None:
    """The val images as a `streetwatch eval` image set: pasted bags are positives, clear frames negatives."""
    positives = [f"images/val/{r.name}.jpg" for r in records if r.bags]
    negatives = [f"images/val/{r.name}.jpg" for r in records if not r.bags]
    if not positives:
        return
    image_set = {"name": "synth-val", "class": "exposed_garbage", "zone": {"kind": "road"}, "positives": positives,
                 "negatives": negatives, "limit": 60,
                 "note": "synthetic CCTV-like val images (test clips' frames, valid-split bags)"}
    if not negatives:
        image_set.pop("negatives")
    body = yaml.safe_dump({"rules": {"exposed_garbage": PRESENCE_RULE}, "images": [image_set]}, sort_keys=False)
    (out / "truth-images.yaml").write_text("# Val images as an image set (docs/evaluation.md).\n" + body,
                                           encoding="utf-8")


def _write_manifest(out: Path, result: SynthResult, seed: int, pool_per_clip: int) -> None:
    manifest = {
        "recipe": "training/synthesis (streetwatch synth)", "seed": seed, "counts": result.counts(),
        "negative_share": NEGATIVE_SHARE, "max_side": MAX_SIDE, "frames_per_clip": pool_per_clip,
        "split": {k: list(v) for k, v in SPLIT.items()}, "bags": {"source": "datasets/trashbags",
                  "train": "train split (photos also in valid left out)", "test": "valid split",
                  "licence": ATTRIBUTION},
        "clips": {c: {"licence": CLIP_LICENCES[c], "ground": asdict(GROUND[c])} for c in GROUND},
        "images": {split: [asdict(r) for r in records] for split, records in result.images.items()},
        "test_clips": [{**asdict(c), "path": str(c.path.relative_to(out))} for c in result.clips],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    counts = result.counts()
    lines = [
        "# CCTV-like synthetic garbage data", "",
        "Made by `streetwatch synth` (recipe: `training/synthesis/`, docs/training.md, section "
        "\"CCTV-like synthetic data\"). Do not edit: regenerate.", "",
        f"- seed {seed}; train {counts['train_images']} images ({counts['train_bags']} bags, "
        f"{counts['train_negatives']} negatives), val {counts['val_images']} images ({counts['val_bags']} bags, "
        f"{counts['val_negatives']} negatives); test clips: {counts['clips_with_bag']} with a bag, "
        f"{counts['clips_without_bag']} without (`clips/`, truth in `truth-clips.yaml`; val images as an image "
        "set in `truth-images.yaml`).",
        f"- train frames from {', '.join(TRAIN_CLIPS)}; val images and test clips from {', '.join(TEST_CLIPS)}.",
        "- class ids as in datasets/street-bins-cn: 0 garbage (every pasted bag), 1 garbage_bin, 2 overflow "
        "(none pasted).", "",
        "## Licences", "",
        f"- bags: {ATTRIBUTION}; train bags from its train split, val/test bags from its valid split.",
        *(f"- `{c}.mp4`: {lic}" for c, lic in CLIP_LICENCES.items()),
        "", "`manifest.json` lists every image's clip, frame time, bags (box, cut-out photo) and camera effects.",
    ]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
