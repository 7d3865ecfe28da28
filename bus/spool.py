"""A worker's outbox on disk: every event passes through it, in order, across restarts.

SQLite (one file, WAL) keeps them. An event waits here until Redis took it, and stays a while
after (`keep_sent_s`): if Redis later loses its data (restarted without persistence), the API
asks the workers to send the recent past again, and it is still here (re-delivery is harmless:
event ids are deterministic).

The spool is bounded. When it is full, events already sent make room first, then `update`
events before any `start` or `end` (the newest update says all the older ones did), each drop
counted; only a spool full of unsent starts and ends gives up its oldest, counted apart and
logged as an error.
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
    size: int  # waiting to be sent
    kept: int  # sent, kept for a resend
    oldest_age_s: float | None  # of what waits
    dropped_updates: int
    dropped_critical: int
    resent: int


class DiskSpool:
    def __init__(self, path: Path | str, max_events: int = 200_000, keep_sent_s: float = 900.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_events = max_events
        self.keep_sent_s = keep_sent_s
        self.dropped_updates = 0
        self.dropped_critical = 0
        self.resent = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives a process crash; a power cut may lose the last
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL, "
            "event TEXT NOT NULL, spooled_at REAL NOT NULL, sent_at REAL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS spool_unsent ON spool (sent_at, id)")
        self._db.execute("CREATE INDEX IF NOT EXISTS spool_updates ON spool (state, id)")
        self._unsent, self._total = self._counts()

    def _counts(self) -> tuple[int, int]:
        unsent, total = self._db.execute("SELECT COUNT(*) - COUNT(sent_at), COUNT(*) FROM spool").fetchone()
        return int(unsent), int(total)

    def __len__(self) -> int:
        """Events waiting to be sent."""
        return self._unsent

    def append(self, events: list[Event]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for event in events:
                    if self._total >= self.max_events and not self._make_room(event):
                        continue
                    self._db.execute("INSERT INTO spool (state, event, spooled_at) VALUES (?, ?, ?)",
                                     (event.state.value, event.model_dump_json(), time.time()))
                    self._unsent += 1
                    self._total += 1
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._unsent, self._total = self._counts()
                raise

    def _delete(self, row: tuple[int] | None, was_unsent: bool) -> bool:
        if row is None:
            return False
        self._db.execute("DELETE FROM spool WHERE id = ?", row)
        self._total -= 1
        self._unsent -= was_unsent
        return True

    def _make_room(self, incoming: Event) -> bool:
        """Free one place for `incoming`, or say it cannot have one (an update meeting a full spool)."""
        if self._delete(self._db.execute("SELECT id FROM spool WHERE sent_at IS NOT NULL ORDER BY id LIMIT 1")
                        .fetchone(), was_unsent=False):
            return True
        if self._delete(self._db.execute("SELECT id FROM spool WHERE state = ? ORDER BY id LIMIT 1",
                                         (EventState.UPDATE.value,)).fetchone(), was_unsent=True):
            self.dropped_updates += 1
            return True
        if incoming.state is EventState.UPDATE:
            self.dropped_updates += 1
            return False
        self._delete(self._db.execute("SELECT id FROM spool ORDER BY id LIMIT 1").fetchone(), was_unsent=True)
        self.dropped_critical += 1
        log.error("event spool full of unsent starts and ends (%d): the oldest was dropped", self.max_events)
        return True

    def peek(self, limit: int) -> list[tuple[int, Event]]:
        """The oldest unsent events, with the ids `mark_sent` takes once Redis has them."""
        with self._lock:
            rows = self._db.execute("SELECT id, event FROM spool WHERE sent_at IS NULL ORDER BY id LIMIT ?",
                                    (limit,)).fetchall()
        return [(row_id, Event.model_validate_json(raw)) for row_id, raw in rows]

    def mark_sent(self, upto_id: int) -> None:
        now = time.time()
        with self._lock:
            self._db.execute("UPDATE spool SET sent_at = ? WHERE id <= ? AND sent_at IS NULL", (now, upto_id))
            self._db.execute("DELETE FROM spool WHERE sent_at < ?", (now - self.keep_sent_s,))
            self._unsent, self._total = self._counts()

    def resend(self, since: float | None = None) -> int:
        """Make events sent since `since` (Unix time; None: all kept) unsent again; returns how many."""
        with self._lock:
            changed = self._db.execute("UPDATE spool SET sent_at = NULL WHERE sent_at IS NOT NULL AND sent_at >= ?",
                                       (since or 0.0,)).rowcount
            self._unsent, self._total = self._counts()
        self.resent += changed
        return int(changed)

    def stats(self) -> SpoolStats:
        with self._lock:
            oldest = self._db.execute("SELECT MIN(spooled_at) FROM spool WHERE sent_at IS NULL").fetchone()[0]
        return SpoolStats(self._unsent, self._total - self._unsent,
                          None if oldest is None else max(0.0, time.time() - oldest),
                          self.dropped_updates, self.dropped_critical, self.resent)

    def close(self) -> None:
        with self._lock:
            self._db.close()
