"""Noticing that Redis lost its data, and getting the lost events back.

Redis keeps a random "epoch" key beside the stream and the database keeps the same value. A
Redis that restarted without its data (no persistence, a new instance, the stream deleted) has no
epoch: the API counts and logs the loss, then asks every worker, on the control stream, to send
again the events it sent recently (they keep them: events/spool.py). Re-delivery is harmless
(deterministic event ids), so what the workers still hold comes back once, and what they no longer
hold is what the recorded incident says may be missing.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime

import redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from api.orm import SettingRow, utcnow
from bus import BusConfig
from bus.control import ResendRequest, publish_request

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class BusWatch:
    def __init__(self, sessions: sessionmaker, client: redis.Redis, bus: BusConfig, clock: Clock = utcnow) -> None:
        self.sessions = sessions
        self.client = client
        self.bus = bus
        self.clock = clock
        self.redis_key = f"{bus.stream}:epoch"
        self.setting = f"bus_epoch:{bus.stream}"
        self.incidents_setting = f"bus_losses:{bus.stream}"

    def check(self) -> bool:
        """True when this call found that Redis had lost its data (and asked the workers to resend)."""
        current = self.client.get(self.redis_key)
        known = self._read(self.setting)
        if current is None:
            self.client.set(self.redis_key, uuid.uuid4().hex, nx=True)  # one replica's value wins
            current = self.client.get(self.redis_key)
            assert current is not None
            epoch = current.decode()
            lost = known is not None and known != epoch
            self._write(self.setting, epoch)
            if lost:
                self._report_loss()
            return lost
        if known != current.decode():
            self._write(self.setting, current.decode())
        return False

    def incidents(self) -> dict[str, object]:
        raw = self._read(self.incidents_setting)
        return json.loads(raw) if raw else {"count": 0, "last_at": None}

    def _report_loss(self) -> None:
        now = self.clock()
        record = self.incidents()
        record = {"count": int(record["count"]) + 1, "last_at": now.isoformat()}
        self._write(self.incidents_setting, json.dumps(record))
        log.error("Redis lost its data (the bus epoch is gone): events not yet stored were lost there; asking the "
                  "workers to send what they still keep (incident %d)", record["count"])
        publish_request(self.client, self.bus, ResendRequest(reason="redis lost its data"))

    def _read(self, key: str) -> str | None:
        with self.sessions() as session:
            row = session.get(SettingRow, key)
            return row.value if row is not None else None

    def _write(self, key: str, value: str) -> None:
        try:
            with self.sessions.begin() as session:
                row = session.get(SettingRow, key, with_for_update=True)
                if row is None:
                    session.add(SettingRow(key=key, value=value))
                else:
                    row.value = value
        except IntegrityError:  # another replica wrote it first
            self._write(key, value)
