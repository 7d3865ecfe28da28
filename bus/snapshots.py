"""Snapshots on local disk: the worker writes them, the API serves them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from zones import Event

_SAFE_PART = re.compile(r"[^A-Za-z0-9_.-]")


THUMBNAIL_WIDTH = 320  # what a wall of live alerts loads: a sixth of a full frame's bytes


def thumbnail_of(relative: str) -> str:
    """Where an evidence picture's thumbnail is (`x.jpg` → `x.thumb.jpg`)."""
    return str(Path(relative).with_suffix(".thumb.jpg").as_posix())


def clean_of(relative: str) -> str:
    """Where the frame behind an evidence picture is kept without anything drawn on it (`x.jpg` → `x.clean.jpg`):
    a zone classifier learns from what the camera saw, not from our boxes and captions."""
    return str(Path(relative).with_suffix(".clean.jpg").as_posix())


def _shrunk(image: np.ndarray) -> np.ndarray:
    import cv2  # OpenCV where a picture is written: the API imports this module only to serve files

    height, width = image.shape[:2]
    if width <= THUMBNAIL_WIDTH:
        return image
    return cv2.resize(image, (THUMBNAIL_WIDTH, round(height * THUMBNAIL_WIDTH / width)), interpolation=cv2.INTER_AREA)


class SnapshotStore:
    """JPEGs under one media directory, named by camera and event so a re-run overwrites, never piles up."""

    def __init__(self, media_dir: Path | str) -> None:
        self.root = Path(media_dir).resolve()

    def save(self, event: Event, image: np.ndarray) -> str:
        """Draw the event's box on the frame and store it; returns the path relative to the media dir."""
        import cv2

        relative = Path("evidence") / _SAFE_PART.sub("_", event.camera_id) / f"{event.event_id}-{event.state}.jpg"
        target = self.root / relative
        picture = image.copy()
        height, width = picture.shape[:2]
        x1, y1, x2, y2 = event.bbox
        p1 = (round(x1 * width), round(y1 * height))
        p2 = (round(x2 * width), round(y2 * height))
        thickness = max(2, width // 400)
        cv2.rectangle(picture, p1, p2, (0, 0, 255), thickness)
        caption = f"{event.problem.value} {event.label} {event.confidence:.2f} t={event.ts_s:.1f}s"
        cv2.putText(picture, caption, (p1[0], max(15, p1[1] - 6)), cv2.FONT_HERSHEY_SIMPLEX,
                    max(0.45, width / 1600), (0, 0, 255), max(1, thickness // 2), cv2.LINE_AA)
        self._write(target, picture)
        self._write(self.root / thumbnail_of(relative.as_posix()), _shrunk(picture))
        self._write(self.root / clean_of(relative.as_posix()), image)  # for labels: no box drawn on it
        return relative.as_posix()

    @staticmethod
    def _write(target: Path, image: np.ndarray) -> None:
        """Write then rename, so the API never serves half a JPEG."""
        import cv2

        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".tmp.jpg")
        if not cv2.imwrite(str(temporary), image, [cv2.IMWRITE_JPEG_QUALITY, 85]):
            raise OSError(f"could not write image {target}")
        temporary.replace(target)

    def save_named(self, camera_id: str, name: str, image: np.ndarray) -> str:
        """A picture under the camera's evidence folder (e.g. a verification's after-snapshot)."""
        relative = Path("evidence") / _SAFE_PART.sub("_", camera_id) / f"{_SAFE_PART.sub('_', name)}.jpg"
        self._write(self.root / relative, image)
        return relative.as_posix()

    def save_snapshot(self, camera_id: str, image: np.ndarray) -> str:
        """A camera's latest frame, overwritten in place: what operators see on the camera list."""
        relative = Path("snapshots") / f"{_SAFE_PART.sub('_', camera_id)}.jpg"
        self._write(self.root / relative, image)
        return relative.as_posix()

    def resolve(self, relative: str) -> Path | None:
        """The file for a stored relative path, or None when it is missing or points outside the media dir."""
        try:
            candidate = (self.root / relative).resolve()
        except (OSError, ValueError):
            return None
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate
