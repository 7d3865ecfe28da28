"""Both Ultralytics trackers keep the identity of real parked cars across real frames."""

from __future__ import annotations

import pytest

from detector import Tracker, TrackerConfig
from streams import FileSource, SourceConfig
from tests.conftest import RESIDENTIAL


@pytest.mark.parametrize("method", ["bytetrack", "botsort"])
def test_parked_cars_keep_their_track_ids(detector, method: str):  # type: ignore[no-untyped-def]
    tracker = Tracker(TrackerConfig(method=method), analysis_fps=2)
    source = FileSource("resi", SourceConfig(url=str(RESIDENTIAL), analysis_fps=2))
    ids_per_frame = []
    for frame in source:
        tracked = tracker.update(detector.detect([frame.image])[0], frame.image)
        ids_per_frame.append(set(tracked.tracker_id.tolist()))
        if frame.ts_s > 10:
            break
    # The far-curb cars are found in the first frame and still carry the same ids ten seconds later.
    assert len(ids_per_frame[0]) >= 3
    assert len(ids_per_frame[0] & ids_per_frame[-1]) >= 3
    assert all(i >= 1 for ids in ids_per_frame for i in ids)
