"""Both Ultralytics trackers keep the identity of real parked cars across real frames."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detector import Detections, Tracker, TrackerConfig
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


@pytest.fixture(scope="module")
def clip_modes(detector):  # type: ignore[no-untyped-def]
    """The residential clip's first 40 s at 2 frames/s and as key frames only (about one every 2 s), detected once."""
    modes = {}
    for name, config in (("2fps", SourceConfig(url=str(RESIDENTIAL), analysis_fps=2)),
                         ("keyframes", SourceConfig(url=str(RESIDENTIAL), decode="keyframes"))):
        frames = [f for f in FileSource("resi", config) if f.ts_s <= 40]
        modes[name] = list(zip(frames, detector.detect([f.image for f in frames]), strict=True))
    return modes


def far_curb_ids(tracked: Detections) -> set[int]:
    """Ids of the cars parked at the far curb (upper left of the picture), which stay for the whole clip."""
    return {int(i) for box, i in zip(tracked.xyxy, tracked.tracker_id, strict=True) if box[3] < 0.5 * 1080}


@pytest.mark.parametrize("mode", ["2fps", "keyframes"])
def test_a_hidden_car_keeps_its_id_for_lost_s_seconds_whatever_the_frame_rate(clip_modes, mode: str):  # type: ignore
    frames = clip_modes[mode]
    outcome = {}
    for hidden_s in (6.0, 16.0):
        # Built as the pipeline builds it: key-frame mode still says 2 frames/s, the frames say otherwise.
        tracker = Tracker(TrackerConfig(lost_s=10), analysis_fps=2)
        before: set[int] = set()
        for frame, found in frames:
            if 10.0 < frame.ts_s <= 10.0 + hidden_s:
                found = Detections.empty()  # a lorry in front of them
            tracked = tracker.update(found, frame.image, frame.ts_s)
            if frame.ts_s <= 10.0:
                before = far_curb_ids(tracked)
            elif frame.ts_s > 10.0 + hidden_s:
                outcome[hidden_s] = len(before & far_curb_ids(tracked))
                break
        assert len(before) >= 2
    assert outcome[6.0] >= 2  # hidden 6 s: found again under its id
    assert outcome[16.0] == 0  # hidden 16 s, longer than lost_s: new ids
    interval = float(np.median(np.diff([f.ts_s for f, _ in frames])))
    assert tracker.buffer_frames == math.floor(10 / interval + 1e-9)  # 20 at 2 frames/s, 5 with a key frame every 2 s


def test_a_gap_in_the_frames_longer_than_lost_s_forgets_every_track(clip_modes):  # type: ignore[no-untyped-def]
    frames = clip_modes["2fps"]
    tracker = Tracker(TrackerConfig(lost_s=10), analysis_fps=2)
    ids = [far_curb_ids(tracker.update(found, frame.image, frame.ts_s)) for frame, found in frames[:10]]
    frame, found = frames[10]
    after_gap = far_curb_ids(tracker.update(found, frame.image, frame.ts_s + 30.0))  # the camera was out 30 s
    assert ids[-1] and not (after_gap & set().union(*ids))  # new ids, never an old one reused
