"""A worker's outbox on disk: events Redis could not take wait here, in order, across restarts.

SQLite (one file, WAL) keeps them: an append is one small transaction, a restart finds them where
they were, and the oldest come out first. The spool is bounded. When it is full, `update` events
are dropped before any `start` or `end` (an update only refreshes a case that a start made, and
the next update says the same again), each drop counted; only a spool full of starts and ends
gives up its oldest, counted apart and logged as an error.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from zones import Event, EventState

log = logging.getLogger(__name__)


@dataclass
class SpoolStats:
    size: int
    oldest_age_s: float | None
    dropped_updates: int
    dropped_critical: int


class DiskSpool:
    def __init__(self, path: Path | str, max_events: int = 100_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_events = max_events
        self.dropped_updates = 0
        self.dropped_critical = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives a process crash; a power cut may lose the last
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL, "
            "event TEXT NOT NULL, spooled_at REAL NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS spool_updates ON spool (state, id)")
        self._size = self._count()

    def _count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM spool").fetchone()[0])

    def __len__(self) -> int:
        return self._size

    def append(self, events: list[Event]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for event in events:
                    if self._size >= self.max_events and not self._make_room(event):
                        continue
                    self._db.execute("INSERT INTO spool (state, event, spooled_at) VALUES (?, ?, ?)",
                                     (event.state.value, event.model_dump_json(), time.time()))
                    self._size += 1
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._size = self._count()
                raise

    def _make_room(self, incoming: Event) -> bool:
        """Free one place for `incoming`, or say it cannot have one (an update meeting a full spool)."""
        oldest_update = self._db.execute(
            "SELECT id FROM spool WHERE state = ? ORDER BY id LIMIT 1", (EventState.UPDATE.value,)).fetchone()
        if oldest_update is not None:
            self._db.execute("DELETE FROM spool WHERE id = ?", oldest_update)
            self._size -= 1
            self.dropped_updates += 1
            return True
        if incoming.state is EventState.UPDATE:
            self.dropped_updates += 1
            return False
        oldest = self._db.execute("SELECT id FROM spool ORDER BY id LIMIT 1").fetchone()
        self._db.execute("DELETE FROM spool WHERE id = ?", oldest)
        self._size -= 1
        self.dropped_critical += 1
        log.error("event spool full of starts and ends (%d): the oldest was dropped", self.max_events)
        return True

    def peek(self, limit: int) -> list[tuple[int, Event]]:
        """The oldest events, with the ids `remove` takes once they are sent."""
        with self._lock:
            rows = self._db.execute("SELECT id, event FROM spool ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [(row_id, Event.model_validate_json(raw)) for row_id, raw in rows]

    def remove(self, upto_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM spool WHERE id <= ?", (upto_id,))
            self._size = self._count()

    def stats(self) -> SpoolStats:
        with self._lock:
            oldest = self._db.execute("SELECT MIN(spooled_at) FROM spool").fetchone()[0]
        return SpoolStats(self._size, None if oldest is None else max(0.0, time.time() - oldest),
                          self.dropped_updates, self.dropped_critical)

    def close(self) -> None:
        with self._lock:
            self._db.close()
