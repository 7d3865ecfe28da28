"""Replays of real footage through the whole pipeline: decode, detect, track, zones, rules."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from bus import SnapshotStore, event_record
from cli.main import app
from settings import load_config
from tests.conftest import HIGHWAY, RESIDENTIAL
from tests.e2e.conftest import DATA
from worker import replay
from zones import EventState, ProblemClass


def test_parked_cars_at_the_curb_raise_events_and_traffic_does_not(residential_run, residential_media: Path):
    starts = [e for e in residential_run.events if e.state is EventState.START]
    by_zone = Counter(e.zone_id for e in starts)
    # Three cars stand at the far curb all clip long: one episode each, none for the carriageway.
    assert by_zone == {"far-curb": 3}
    assert len({e.event_id for e in starts}) == 3
    assert all(e.problem is ProblemClass.ILLEGAL_PARKING_MOTOR for e in starts)
    # Raised once the 15 s dwell has passed, not before.
    assert all(e.start_s - e.since_s >= 15.0 for e in starts)
    assert min(e.start_s for e in starts) < 20.0
    # Each episode ends when the clip does (its last analysed frame), not before.
    ends = {e.event_id: e for e in residential_run.events if e.state is EventState.END}
    assert set(ends) == {e.event_id for e in starts}
    assert all(e.ts_s > 73.0 and e.end_s is not None for e in ends.values())
    # Three different cars, each inside the far-curb zone (x 0.08 to 0.50), each last seen after its start and
    # within the 10 s clear time (and one 0.5 s analysis step) of its end event: unseen longer, its episode
    # would have ended earlier.
    # When exactly a model stops seeing a car depends on its scores, so no time beyond that is pinned.
    centres = sorted(round((e.bbox[0] + e.bbox[2]) / 2, 2) for e in ends.values())
    assert len(centres) == 3 and all(0.08 <= c <= 0.50 for c in centres)
    assert min(b - a for a, b in itertools.pairwise(centres)) >= 0.05
    for start in starts:
        end = ends[start.event_id]
        assert end.end_s is not None and start.start_s < end.end_s <= end.ts_s <= end.end_s + 10.0 + 0.5
    # The start carries an evidence snapshot that exists on disk.
    store = SnapshotStore(residential_media)
    for event in starts:
        assert event.snapshot is not None
        path = store.resolve(event.snapshot)
        assert path is not None and path.stat().st_size > 10_000


def test_highway_traffic_raises_no_parking_event(detector):  # type: ignore[no-untyped-def]
    config = load_config(DATA / "highway.yaml")
    camera = config.cameras[0]
    assert Path(camera.source.url) == HIGHWAY
    run = replay(config, camera, lambda _events: None, None, detector)
    assert run.frames >= 20
    assert run.events == []


def test_replay_cli_writes_the_same_events_as_an_earlier_replay(residential_run, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        app, ["replay", str(RESIDENTIAL), "--config", str(DATA / "residential.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records == [json.loads(json.dumps(event_record(e))) for e in residential_run.events]
    required = {"event_id", "class", "camera_id", "zone_id", "state", "start_s", "end_s", "ts_s", "confidence", "bbox"}
    assert all(required <= record.keys() for record in records)
    assert all(0.0 <= v <= 1.0 for record in records for v in record["bbox"])
    assert "episodes" in result.output


def test_motorcycles_waiting_with_riders_are_not_parked(detector):  # type: ignore[no-untyped-def]
    config = load_config(DATA / "stopline.yaml")
    camera = config.cameras[0]
    with_riders = replay(config, camera, lambda _events: None, None, detector)
    assert with_riders.frames >= 55
    assert with_riders.events == []
    # The same replay with the rider exclusion off takes a waiting motorcycle for a parked one.
    rules = config.rules.model_copy(
        update={"illegal_parking_nonmotor": config.rules.illegal_parking_nonmotor.model_copy(
            update={"exclude_ridden": False})}
    )
    without = replay(config.model_copy(update={"rules": rules}), camera, lambda _events: None, None, detector)
    assert [e.problem for e in without.events if e.state is EventState.START] == [
        ProblemClass.ILLEGAL_PARKING_NONMOTOR
    ]


def test_parked_cars_are_still_raised_from_key_frames_alone(detector):  # type: ignore[no-untyped-def]
    config = load_config(DATA / "residential.yaml")
    camera = config.cameras[0]
    keyframes = camera.model_copy(update={"source": camera.source.model_copy(update={"decode": "keyframes"})})
    run = replay(config, keyframes, lambda _events: None, None, detector)
    assert run.frames == 36  # a key frame every ~2 s instead of 146 analysed frames
    starts = Counter(e.zone_id for e in run.events if e.state is EventState.START)
    assert starts == {"far-curb": 3}
