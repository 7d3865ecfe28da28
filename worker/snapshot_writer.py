"""Snapshots written off the inference thread: a slow or stuck media share delays events, never frames.

Production's media directory is a network volume; three JPEGs per `start` written on the inference thread
stalled every camera of the worker whenever the share was slow. The inference thread now only queues the
events of a frame with that frame's picture; one writer thread writes the pictures and then hands the events
to the sink, in the order they were raised. So an event always leaves the worker after its picture exists
(the API and the dashboard never point at a file still to come), and an `end` never overtakes its `start`.

Pictures waiting are bounded (`max_pending`): past that, a frame's events go on without their picture
(`dropped` counts them) rather than holding more frames in memory. A write that fails (`failed`) leaves its
event without evidence, as before.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from bus import SnapshotStore
from streams import Frame
from worker.runner import EventSink, hand_over
from zones import Event, EventState

log = logging.getLogger(__name__)


@dataclass
class _Item:
    events: list[Event]
    image: np.ndarray | None  # the analysed moment's picture; None: events go on without one


class EvidenceWriter:
    """A bounded queue of (events, picture) and the one thread that writes the pictures, then publishes."""

    def __init__(self, evidence: SnapshotStore | None, sink: EventSink, max_pending: int = 32) -> None:
        self.snapshots = evidence
        self.sink = sink
        self.max_pending = max_pending
        self.dropped = 0  # pictures not written because too many were waiting
        self.failed = 0  # pictures whose write failed
        self.written = 0
        self._queue: deque[_Item] = deque()
        self._pictures = 0
        self._cond = threading.Condition()
        self._finished = False
        self._thread = threading.Thread(target=self._run, name="evidence-writer", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Pictures waiting to be written (their events wait with them)."""
        return self._pictures

    def deliver(self, events: list[Event], frame: Frame | None) -> None:
        """Queue a frame's events with its picture (called on the inference thread; never touches the disk)."""
        wants_picture = self.snapshots is not None and frame is not None and any(
            e.state is EventState.START for e in events)
        with self._cond:
            image = frame.image if wants_picture and frame is not None else None
            if image is not None and self._pictures >= self.max_pending:
                self.dropped += 1
                log.warning("证据图片积压，未保存 evidence writes backed up (%d waiting): camera %s's picture dropped, "
                            "its events go on without it", self._pictures, events[0].camera_id)
                image = None
            self._queue.append(_Item(events, image))
            self._pictures += image is not None
            self._cond.notify_all()

    def finish(self) -> None:
        """Nothing more will come: the thread hands over what is queued, then ends."""
        with self._cond:
            self._finished = True
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the queue to drain; if the share is still stuck then, what is queued goes on without pictures
        (the write in progress is left to the thread), so events are never lost to a hung volume."""
        self._thread.join(timeout)
        if not self._thread.is_alive():
            return
        with self._cond:
            left, self._queue = list(self._queue), deque()
            self.dropped += sum(item.image is not None for item in left)
            self._pictures = 0
        if left:
            log.warning("证据图片写入卡住 evidence share stuck: %d queued frames' events handed over without pictures",
                        len(left))
        for item in left:
            hand_over(item.events, self.sink)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._finished:
                    self._cond.wait()
                if not self._queue:
                    return
                item = self._queue[0]
            events = self._with_pictures(item)
            with self._cond:
                if self._queue and self._queue[0] is item:  # not taken by a join that gave up on us
                    self._queue.popleft()
                    self._pictures -= item.image is not None
                else:
                    continue
            try:
                hand_over(events, self.sink)
            except Exception:  # the sink's failure loses these events, not the writer
                log.exception("handing %d events to the bus failed", len(events))

    def _with_pictures(self, item: _Item) -> list[Event]:
        if item.image is None or self.snapshots is None:
            return item.events
        done = []
        for event in item.events:
            if event.state is EventState.START:
                try:
                    event = event.model_copy(update={"snapshot": self.snapshots.save(event, item.image)})
                    self.written += 1
                except Exception as exc:  # a full, gone or read-only share: the event goes on without it
                    self.failed += 1
                    log.warning("camera %s: 证据图片未保存 evidence not saved: %s", event.camera_id, exc)
            done.append(event)
        return done
