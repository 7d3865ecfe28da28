"""Learning curve of zone heads: held-out accuracy against the number of labels per class, per encoder.

The shared `bins-full-notfull` set (full/ = problem, not_full/ = clear) stands in for a zone's
labelled snapshots; its licence allows experiments only, so nothing trained here ships. A fixed
held-out split is embedded once per encoder setting; for each size, several random draws of that
many labels per class train a head (`zones.classifier.ZoneClassifier`), scored on the held-out
split. Run from the project root:

    python -m bench.classifier_curve --plot docs/scene-and-classifiers-curve.png --json var/classifier-curve.json \
        --cache var/classifier-embeddings
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from detector.encoder import EncoderConfig, ImageEncoder
from models.registry import current_assets_dir
from zones.classifier import ZoneClassifier, accuracy, crop_zone

SIZES = (5, 10, 20, 50)
# A zone drawn round the bin in the middle of each photo: an octagon inside the frame, corners cut off.
OCTAGON = ((0.3, 0.05), (0.7, 0.05), (0.95, 0.3), (0.95, 0.7), (0.7, 0.95), (0.3, 0.95), (0.05, 0.7), (0.05, 0.3))


@dataclass
class Setting:
    variant: str
    layer: str
    crop: str  # "whole" image, or the octagon zone's box "masked" outside the polygon

    @property
    def name(self) -> str:
        return f"{self.variant}/{self.layer}/{self.crop}"


@dataclass
class CurvePoint:
    setting: str
    per_class: int
    draws: int
    accuracy_mean: float
    accuracy_sd: float
    balanced_mean: float
    balanced_sd: float


def load_bins(root: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Images and labels (True = full) in a fixed order."""
    images: list[np.ndarray] = []
    labels: list[bool] = []
    for folder, full in (("full", True), ("not_full", False)):
        for path in sorted((root / folder).glob("*.jpg"), key=lambda p: (len(p.stem), p.stem)):
            image = cv2.imread(str(path))
            if image is not None:
                images.append(image)
                labels.append(full)
    if not images:
        raise SystemExit(f"no images under {root}/full and {root}/not_full")
    return images, np.array(labels, dtype=bool)


def embed(setting: Setting, images: list[np.ndarray], threads: int) -> tuple[np.ndarray, float]:
    """All images embedded under one setting, and the milliseconds per crop (crop + embed, wall)."""
    encoder = ImageEncoder(EncoderConfig(variant=setting.variant, layer=setting.layer, threads=threads))
    encoder.embed(images[:2])  # warm-up
    start = time.perf_counter()
    crops = [crop_zone(image, OCTAGON, mask=True) for image in images] if setting.crop == "masked" else images
    x = encoder.embed(crops)
    return x, (time.perf_counter() - start) * 1000 / len(images)


def embed_costs(images: list[np.ndarray], threads: int, batch: int = 8, repeats: int = 3) -> dict[str, float]:
    """Milliseconds per crop, one crop per call against `batch` per call (where the runtime takes a batch),
    and a YOLO detect of one residential-clip frame in the same run as the reference."""
    from detector import Detector, DetectorConfig
    from streams import FileSource, SourceConfig

    def median_ms(run: Callable[[], object], count: int) -> float:
        rounds = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            rounds.append((time.perf_counter() - start) * 1000 / count)
        return statistics.median(rounds)

    clip = current_assets_dir() / "video" / "residential-street-parked-cars.mp4"
    frame = next(iter(FileSource("bench", SourceConfig(url=str(clip), analysis_fps=1)))).image
    detector = Detector(DetectorConfig())
    detector.detect([frame])
    costs = {"yolo detect, one 640x360 frame": median_ms(lambda: [detector.detect([frame]) for _ in range(8)], 8)}
    for variant in ("efficientnet-lite3", "mobilenet-edgetpu"):
        for size in (1, batch):
            encoder = ImageEncoder(EncoderConfig(variant=variant, threads=threads, max_batch=size))
            encoder.embed(images[: encoder.batch])
            costs[f"{variant}, {encoder.batch} per call"] = median_ms(lambda e=encoder: e.embed(images), len(images))
    return costs


def split(labels: np.ndarray, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed held-out indices (`test_share` of each class, so the set keeps the data's imbalance, as a
    zone's labels would) and the pool that training labels are drawn from."""
    rng = np.random.default_rng(seed)
    test = np.concatenate([
        rng.choice(members, round(len(members) * test_share), replace=False)
        for members in (np.flatnonzero(labels == kind) for kind in (True, False))
    ])
    return np.sort(test), np.setdiff1d(np.arange(len(labels)), test)


def curve(
    setting: str, x: np.ndarray, y: np.ndarray, test: np.ndarray, pool: np.ndarray, sizes: tuple[int, ...],
    draws: int, c: float, seed: int,
) -> list[CurvePoint]:
    points: list[CurvePoint] = []
    for n in sizes:
        rng = np.random.default_rng(seed + n)
        scores = []
        for _ in range(draws):
            picked = np.concatenate([rng.choice(pool[y[pool] == kind], n, replace=False) for kind in (True, False)])
            head = ZoneClassifier.fit(x[picked], y[picked], setting, c)
            scores.append(accuracy(head, x[test], y[test]))
        acc, bal = [s[0] for s in scores], [s[1] for s in scores]
        points.append(CurvePoint(setting, n, draws, statistics.mean(acc), statistics.pstdev(acc),
                                 statistics.mean(bal), statistics.pstdev(bal)))
    return points


def plot(points: list[CurvePoint], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    sizes = sorted({p.per_class for p in points})
    fig, ax = plt.subplots(figsize=(8, 4.4), dpi=110)
    colours = {"efficientnet-lite3": "tab:blue", "mobilenet-edgetpu": "tab:orange"}
    for setting in dict.fromkeys(p.setting for p in points):
        variant, layer, crop = setting.split("/")
        mine = [p for p in points if p.setting == setting]
        ax.errorbar([p.per_class * (1.02 if crop == "masked" else 0.98) for p in mine],
                    [p.balanced_mean for p in mine], yerr=[p.balanced_sd for p in mine], capsize=3,
                    color=colours.get(variant), linestyle="-" if layer == "features" else "--",
                    marker="o" if crop == "whole" else "s", label=setting)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="chance")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_major_formatter(FixedFormatter([str(n) for n in sizes]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("labelled examples per class (log scale)")
    ax.set_ylabel("balanced accuracy, held-out split")
    ax.set_title("Zone head on a frozen encoder, bins full / not full (mean ± sd over draws)", fontsize=10)
    ax.set_ylim(0.45, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=current_assets_dir() / "datasets" / "bins-full-notfull")
    parser.add_argument("--draws", type=int, default=10, help="random draws of labels per size")
    parser.add_argument("--test-share", type=float, default=0.2, help="share of each class held out")
    parser.add_argument("--c", type=float, default=100.0, help="inverse regularisation of the head")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settings", default="all", help="'all' or comma-separated variant/layer/crop names")
    parser.add_argument("--cache", type=Path, help="keep embeddings here (npz) and reuse them on the next run")
    parser.add_argument("--plot", type=Path, help="write the balanced-accuracy curve as a PNG here")
    parser.add_argument("--json", type=Path, help="write every figure as JSON here")
    args = parser.parse_args(argv)

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    images, labels = load_bins(args.dataset)
    test, pool = split(labels, args.test_share, args.seed)
    settings = [Setting(v, layer, crop) for v in ("efficientnet-lite3", "mobilenet-edgetpu")
                for layer in ("features", "probabilities") for crop in ("whole", "masked")]
    if args.settings != "all":
        wanted = set(args.settings.split(","))
        settings = [s for s in settings if s.name in wanted]
    print(f"{len(images)} images ({int(labels.sum())} full), held out {len(test)} ({int(labels[test].sum())} full), "
          f"pool {len(pool)}, "
          f"{args.draws} draws per size, C={args.c}")
    points: list[CurvePoint] = []
    costs: dict[str, float] = {}
    for setting in settings:
        cached = args.cache / f"{setting.name.replace('/', '_')}.npz" if args.cache else None
        if cached is not None and cached.is_file():
            stored = np.load(cached)
            x, ms = stored["x"], float(stored["ms"])
        else:
            x, ms = embed(setting, images, args.threads)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cached, x=x, ms=ms)
        costs[setting.name] = ms
        points.extend(curve(setting.name, x, labels, test, pool, SIZES, args.draws, args.c, args.seed))
        print(f"embedded {setting.name}: {x.shape[1]} values, {ms:.1f} ms per crop", flush=True)
    print("\n| encoder / layer / crop | " + " | ".join(f"{n} per class" for n in SIZES) + " | embed ms/crop |")
    print("|---|" + "---|" * (len(SIZES) + 1))
    for setting in settings:
        mine = {p.per_class: p for p in points if p.setting == setting.name}
        cells = [f"{mine[n].balanced_mean:.3f} ± {mine[n].balanced_sd:.3f} (acc {mine[n].accuracy_mean:.3f})"
                 for n in SIZES]
        print(f"| {setting.name} | " + " | ".join(cells) + f" | {costs[setting.name]:.1f} |")
    batch_costs = embed_costs(images[:32], args.threads)
    yolo = batch_costs["yolo detect, one 640x360 frame"]
    print("\n| what | ms per crop (320x240 photos; median of 3 rounds of 32) | × YOLO detect |\n|---|---|---|")
    for name, ms in batch_costs.items():
        print(f"| {name} | {ms:.1f} | {ms / yolo:.2f} |")
    if args.plot:
        plot(points, args.plot)
        print(f"\nplot: {args.plot}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {"points": [asdict(p) for p in points], "embed_ms_per_crop": costs, "batch_costs": batch_costs,
                   "args": {k: str(v) for k, v in vars(args).items()}}
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
