"""The outbox relay: committed case changes go to the live feed (a Redis Stream) and become webhook deliveries.

Changes are read in id order with row locks that other replicas skip, so each change is relayed
by one replica. A change is marked only after Redis took it: a Redis outage delays the feed and
loses nothing. If the mark itself fails after Redis took it, the change is sent again, and its
`change_id` lets readers drop the repeat.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import redis
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.orm import ChangeRow, utcnow
from api.services.webhooks import WebhookConfig, fan_out

Clock = Callable[[], datetime]
LIVE_MAX_LEN = 20_000  # about a working week of changes at a busy centre; older reconnects reload the page


def live_stream(events_stream: str) -> str:
    return f"{events_stream}:live"


class ChangeRelay:
    def __init__(self, sessions: sessionmaker, client: redis.Redis, stream: str, webhooks: list[WebhookConfig],
                 clock: Clock = utcnow, max_len: int = LIVE_MAX_LEN) -> None:
        self.sessions = sessions
        self.client = client
        self.stream = stream
        self.webhooks = webhooks
        self.clock = clock
        self.max_len = max_len
        self.published = 0

    def publish_live(self, limit: int = 500) -> int:
        with self.sessions.begin() as session:
            rows = list(session.scalars(
                select(ChangeRow).where(ChangeRow.published_at.is_(None)).order_by(ChangeRow.id).limit(limit)
                .with_for_update(skip_locked=True)
            ))
            if not rows:
                return 0
            pipe = self.client.pipeline(transaction=False)
            for row in rows:
                message = {**row.payload, "change_id": row.id}
                pipe.xadd(self.stream, {"change": json.dumps(message, ensure_ascii=False)}, maxlen=self.max_len,
                          approximate=True)
            pipe.execute()  # raises on a Redis failure: the transaction rolls back, the rows stay unpublished
            now = self.clock()
            for row in rows:
                row.published_at = now
        self.published += len(rows)
        return len(rows)

    def fan_out_webhooks(self, limit: int = 500) -> int:
        with self.sessions.begin() as session:
            rows = list(session.scalars(
                select(ChangeRow).where(ChangeRow.webhooks_at.is_(None)).order_by(ChangeRow.id).limit(limit)
                .with_for_update(skip_locked=True)
            ))
            if rows:
                fan_out(session, rows, self.webhooks, self.clock())
        return len(rows)
