"""Snapshots are written off the inference thread: a stuck media share delays a camera's events, never its
frames; each event leaves only once its picture exists, and the picture is of the moment the detection came from."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bus import SnapshotStore
from settings import load_config
from streams import Frame, open_source
from tests.e2e.conftest import DATA
from tests.helpers import wait_until
from worker import Worker
from zones import Event, EventState


def _digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


class StuckShare(SnapshotStore):
    """The real store, on a share whose writes hang until `release` (an NFS mount that stopped answering)."""

    def __init__(self, media_dir: Path) -> None:
        super().__init__(media_dir)
        self.blocked, self.release = threading.Event(), threading.Event()
        self.clean: dict[str, str] = {}  # event picture (relative, no box drawn) -> digest of what was written

    def _write(self, target: Path, image: np.ndarray) -> None:  # type: ignore[override]
        self.blocked.set()
        self.release.wait()
        if target.name.endswith(".clean.jpg"):
            self.clean[target.relative_to(self.root).as_posix()] = _digest(image)
        SnapshotStore._write(target, image)


@pytest.fixture(scope="module")
def stuck_run(detector, tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The residential clip analysed on a "substream" with the same clip as its main stream, on a stuck share."""
    settings = load_config(DATA / "residential.yaml")
    camera = settings.cameras[0]
    clip = camera.source.url
    camera = camera.model_copy(update={"source": camera.source.model_copy(update={"analysis_url": clip})})
    store = StuckShare(tmp_path_factory.mktemp("media"))
    events: list[Event] = []
    analysed: dict[str, Frame] = {}  # event id of each start -> the frame it was raised on

    def seen(frame: Frame, raised: list[Event]) -> None:
        analysed.update({e.event_id: frame for e in raised if e.state is EventState.START})

    worker = Worker(settings, events.extend, store, detector, cameras=[camera], on_analysed=seen)
    worker.start()
    run: dict[str, Any] = {"store": store, "events": events, "analysed": analysed, "worker": worker}
    try:
        wait_until(store.blocked.is_set, timeout_s=300, what="the first evidence write")
        at_block = worker.frames_processed[camera.id]
        try:
            wait_until(lambda: worker.frames_processed[camera.id] >= at_block + 10, timeout_s=120,
                       what="ten more frames analysed while the share is stuck")
            run["kept_analysing"] = True
        except AssertionError:
            run["kept_analysing"] = False
        run["published_while_stuck"] = [e for e in events if e.state is EventState.START]
    finally:
        store.release.set()
        worker.join(300)
    main = camera.source.model_copy(update={"analysis_url": None, "decode": "keyframes", "analysis_fps": None})
    run["main_frames"] = {_digest(f.image): f.ts_s for f in open_source(camera.id, main)}
    return run


def test_a_stuck_share_does_not_stop_the_inference_loop(stuck_run) -> None:  # type: ignore[no-untyped-def]
    assert stuck_run["kept_analysing"], "frames stopped being analysed while an evidence picture was being written"
    assert not stuck_run["worker"].alive
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from worker.metrics import WorkerMetrics

    metrics = WorkerMetrics(stuck_run["worker"], None)
    samples = {(s.name, tuple(s.labels.values())): s.value
               for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
               for s in family.samples}
    starts = sum(e.state is EventState.START for e in stuck_run["events"])
    assert samples[("streetwatch_evidence_pictures_total", ("written",))] == starts > 0
    assert samples[("streetwatch_evidence_pictures_total", ("dropped",))] == 0
    assert samples[("streetwatch_evidence_pending", ())] == 0


def test_an_event_leaves_only_once_its_picture_exists(stuck_run) -> None:  # type: ignore[no-untyped-def]
    assert stuck_run["published_while_stuck"] == []  # its picture was not written yet: the start waited
    starts = [e for e in stuck_run["events"] if e.state is EventState.START]
    assert starts
    for event in starts:
        assert event.snapshot and stuck_run["store"].resolve(event.snapshot) is not None, event


def test_the_picture_is_of_the_analysed_frames_moment(stuck_run) -> None:  # type: ignore[no-untyped-def]
    from bus.snapshots import clean_of

    tolerance_s = 0.5
    for event in (e for e in stuck_run["events"] if e.state is EventState.START):
        frame = stuck_run["analysed"][event.event_id]
        written = stuck_run["store"].clean[clean_of(event.snapshot)]
        if written == _digest(frame.image):
            continue  # the analysed frame itself
        ts = stuck_run["main_frames"].get(written)
        assert ts is not None and abs(ts - frame.ts_s) <= tolerance_s, (
            f"the picture of {event.event_id} (raised at {frame.ts_s:.1f}s) is a main-stream frame at {ts}s")


def test_past_max_pending_pictures_are_dropped_and_counted_but_no_event_is(tmp_path: Path) -> None:
    from tests.helpers import make_event
    from worker.snapshot_writer import EvidenceWriter

    store = StuckShare(tmp_path / "media")
    handed: list[Event] = []
    writer = EvidenceWriter(store, handed.extend, max_pending=2)
    image = np.zeros((36, 64, 3), np.uint8)
    starts = [make_event("cam-1", f"zone-{i}", "illegal_parking_motor", float(i)) for i in range(4)]
    for i, event in enumerate(starts):
        writer.deliver([event], Frame("cam-1", float(i), i, image))
    writer.deliver([starts[0].model_copy(update={"state": EventState.END, "ts_s": 9.0})], None)
    assert (writer.pending, writer.dropped, handed) == (2, 2, [])
    store.release.set()
    writer.finish()
    writer.join(60)
    assert [(e.zone_id, e.state) for e in handed] == [(e.zone_id, e.state) for e in starts] + [("zone-0", "end")]
    assert [bool(e.snapshot) for e in handed[:4]] == [True, True, False, False]
    assert (writer.pending, writer.written, writer.failed) == (0, 2, 0)
