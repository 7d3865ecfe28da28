"""Each camera's recent past, kept cheaply so that a what-if can replay exactly what the camera saw.

What is kept is what the zones and rules act on: every analysed frame's time, size and every
detection (before any filtering, since draft zones may watch other classes), in one SQLite file per
camera; and a picture every `picture_every_s` for the what-if's timeline. Detections are a few
hundred bytes a frame, so minutes of many cameras fit in megabytes. Older than `minutes` is dropped;
pictures are bounded by `max_mb` per camera as well.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detector import Detections
from streams import Frame

log = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class RecordingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: float = Field(10.0, ge=0, le=24 * 60, description="How far back each camera is kept; 0: not at all.")
    picture_every_s: float = Field(10.0, gt=0, description="A picture this often, for the what-if's timeline.")
    max_mb: float = Field(200.0, gt=0, description="Bound on one camera's pictures on disk.")
    dir: str | None = Field(None, description="Where; default <media_dir>/recordings (the API reads pictures there).")


@dataclass(frozen=True)
class RecordedFrame:
    ts_s: float
    width: int
    height: int
    detections: Detections


class CameraRecorder:
    def __init__(self, folder: Path, camera_id: str, config: RecordingConfig) -> None:
        self.config = config
        self.folder = folder / _SAFE.sub("_", camera_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.folder / "frames.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # a crash loses the last seconds of a replay aid, nothing more
        self._db.execute("CREATE TABLE IF NOT EXISTS frames (ts REAL PRIMARY KEY, width INTEGER, height INTEGER, "
                         "detections TEXT)")
        self._lock = threading.Lock()
        self._next_picture = 0.0
        self._pending = 0

    def record(self, frame: Frame, detections: Detections) -> None:
        """On the inference thread: one row (a few hundred bytes), a picture now and then."""
        row = json.dumps({"xyxy": np.round(detections.xyxy, 1).tolist(),
                          "confidence": np.round(detections.confidence, 4).tolist(),
                          "labels": [str(label) for label in detections.labels]}, separators=(",", ":"))
        with self._lock:
            if self._pending == 0:
                self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO frames VALUES (?, ?, ?, ?)",
                             (frame.ts_s, frame.width, frame.height, row))
            self._pending += 1
            if self._pending >= 20:
                self._db.execute("DELETE FROM frames WHERE ts < ?", (frame.ts_s - self.config.minutes * 60,))
                self._db.execute("COMMIT")
                self._pending = 0
        if frame.ts_s >= self._next_picture:
            self._next_picture = frame.ts_s + self.config.picture_every_s
            self._picture(frame)

    def _picture(self, frame: Frame) -> None:
        path = self.folder / f"{frame.ts_s:.3f}.jpg"
        if cv2.imwrite(str(path), frame.image, [cv2.IMWRITE_JPEG_QUALITY, 75]):
            self._prune_pictures(frame.ts_s)

    def _prune_pictures(self, now_s: float) -> None:
        pictures = sorted(self.folder.glob("*.jpg"), key=lambda p: float(p.stem))
        budget = self.config.max_mb * 1024 * 1024
        total = sum(p.stat().st_size for p in pictures)
        for path in pictures:
            if float(path.stem) >= now_s - self.config.minutes * 60 and total <= budget:
                break
            total -= path.stat().st_size
            path.unlink(missing_ok=True)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._db.execute("COMMIT")
                self._pending = 0

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()


def recorded_frames(folder: Path, camera_id: str, minutes: float | None = None) -> Iterator[RecordedFrame]:
    """A camera's recording, oldest first (the last `minutes` of it, or all)."""
    path = folder / _SAFE.sub("_", camera_id) / "frames.sqlite"
    if not path.is_file():
        return
    db = sqlite3.connect(path)
    try:
        newest = db.execute("SELECT MAX(ts) FROM frames").fetchone()[0]
        if newest is None:
            return
        since = newest - minutes * 60 if minutes else float("-inf")
        for ts, width, height, raw in db.execute("SELECT ts, width, height, detections FROM frames WHERE ts >= ? "
                                                 "ORDER BY ts", (since,)):
            data = json.loads(raw)
            detections = Detections(np.array(data["xyxy"], dtype=np.float32).reshape(-1, 4),
                                    np.array(data["confidence"], dtype=np.float32), np.array(data["labels"], object))
            yield RecordedFrame(ts, width, height, detections)
    finally:
        db.close()
