"""Zones replaced while the residential clip plays: unchanged zones keep their dwell timers and episodes, a new
zone raises from then on, a deleted zone ends its episodes with an `end` event, never silently."""

from __future__ import annotations

import pytest

from settings import load_config
from streams import open_source
from tests.e2e.conftest import DATA
from worker import CameraPipeline
from zones import Event, EventState, ZoneConfig

NEAR_CURB = ZoneConfig(id="near-curb", kind="no_parking", polygon=[(0.0, 0.60), (0.80, 0.60), (0.80, 0.95),
                                                                      (0.0, 0.95)])
RELOAD_AT = 20.0


@pytest.fixture(scope="module")
def frames_with_detections(detector):  # type: ignore[no-untyped-def]
    """The clip's analysed frames and their detections, once (the reload never touches the detector)."""
    settings = load_config(DATA / "residential.yaml")
    frames = list(open_source("resi-1", settings.cameras[0].source))
    return settings, [(f, d) for f, d in zip(frames, detector.detect([f.image for f in frames]), strict=True)]


def _play(settings, frames_with_detections, labels, reload=None):  # type: ignore[no-untyped-def]
    camera = settings.cameras[0]
    pipeline = CameraPipeline(camera, settings.rules, settings.tracker, labels)
    events: list[Event] = []
    for frame, detections in frames_with_detections:
        if reload is not None and frame.ts_s >= RELOAD_AT and reload[1] is None:
            reload[1] = pipeline.reload_zones(reload[0], frame.ts_s)
            events += reload[1]
        events += pipeline.process(frame, detections)
    return events + pipeline.close(frames_with_detections[-1][0].ts_s), pipeline


def test_a_new_zone_mid_clip_raises_from_then_on_and_unchanged_zones_keep_their_timers(frames_with_detections,
                                                                                       detector):  # type: ignore
    settings, frames = frames_with_detections
    labels = frozenset(detector.labels)
    baseline, _ = _play(settings, frames, labels)
    far_curb = [z for z in settings.cameras[0].zones if z.id == "far-curb"]
    carriageway = [z for z in settings.cameras[0].zones if z.id == "carriageway"]
    reload: list = [[*far_curb, *carriageway, NEAR_CURB], None]
    reloaded, pipeline = _play(settings, frames, labels, reload)
    assert reload[1] == []  # nothing ended: every old zone is unchanged
    key = lambda e: (e.state, e.start_s, e.ts_s, e.track_id)  # noqa: E731
    assert [key(e) for e in reloaded if e.zone_id == "far-curb"] == [key(e) for e in baseline
                                                                      if e.zone_id == "far-curb"]
    near = [e for e in reloaded if e.zone_id == "near-curb"]
    starts = [e for e in near if e.state is EventState.START]
    assert starts, "the cars parked at the near curb are seen in the new zone"
    # Dwell counts from the reload: nothing before the zone existed, dwell included.
    dwell = settings.rules.illegal_parking_motor.dwell_s
    assert min(e.ts_s for e in starts) >= RELOAD_AT + dwell - 0.5
    assert min(e.since_s for e in starts) >= RELOAD_AT - 0.5
    assert "near-curb" in pipeline.zone_ids


def test_a_deleted_zone_ends_its_open_episodes_at_the_reload(frames_with_detections, detector):  # type: ignore
    settings, frames = frames_with_detections
    carriageway = [z for z in settings.cameras[0].zones if z.id == "carriageway"]
    reload: list = [carriageway, None]  # far-curb, where three cars are parked, goes
    reloaded, pipeline = _play(settings, frames, frozenset(detector.labels), reload)
    ended = reload[1]
    assert ended and {e.zone_id for e in ended} == {"far-curb"}
    assert all(e.state is EventState.END and e.ts_s >= RELOAD_AT for e in ended)
    started = {e.event_id for e in reloaded if e.zone_id == "far-curb" and e.state is EventState.START}
    assert {e.event_id for e in ended} == started  # every episode that began there ended, none silently
    assert not [e for e in reloaded if e.zone_id == "far-curb" and e.ts_s > ended[0].ts_s]
    assert "far-curb" not in pipeline.zone_ids
