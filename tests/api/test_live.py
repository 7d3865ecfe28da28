"""GET /api/live over a real HTTP server: changes arrive within a second; a reconnect loses nothing."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import httpx
from httpx_sse import connect_sse

from tests.api_fixture import Api
from tests.helpers import make_event, wait_until


@dataclass
class Listener:
    """Reads the feed in a thread, keeping (arrival time, id, event, data)."""

    api: Api
    last_event_id: str | None = None
    received: list[tuple[float, str, str, dict]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        headers = self.api.auth("viewer")
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        try:
            with httpx.Client(base_url=self.api.base_url, timeout=httpx.Timeout(5, read=None)) as client, \
                    connect_sse(client, "GET", "/api/live", headers=headers) as source:
                for message in source.iter_sse():
                    if not message.data:  # a keep-alive
                        continue
                    self.received.append((time.monotonic(), message.id, message.event, json.loads(message.data)))
                    if self.stop.is_set():
                        return
        except httpx.RemoteProtocolError:  # the API stopped at the end of the test: what was received is kept
            return

    def changes(self) -> list[dict]:
        return [data for _t, _i, event, data in self.received if event == "change"]

    def close(self) -> None:
        self.stop.set()


def test_a_change_reaches_the_feed_within_a_second_and_a_reconnect_gets_what_it_missed(make_api):  # type: ignore
    api: Api = make_api(serve=True, verification={"enabled": False})
    first = Listener(api)
    wait_until(lambda: first.received, what="the hello message")
    assert first.received[0][2] == "hello"
    api.publish_and_wait([make_event("cam-a", "gate", "illegal_parking_motor", 1.0)])
    wait_until(lambda: first.changes(), what="the new case on the feed")
    created = first.changes()[0]
    assert created["kind"] == "created" and created["case"]["zone_id"] == "gate" and created["change_id"] >= 1
    case_id = created["case"]["id"]

    sent = time.monotonic()
    assert api.move(case_id, "confirmed", note="看到了").status_code == 200
    wait_until(lambda: len(first.changes()) == 2, what="the confirmation on the feed")
    arrival, _id, _event, confirmed = first.received[-1]
    assert arrival - sent < 1.0
    assert confirmed["kind"] == "transition" and confirmed["case"]["status"] == "confirmed"
    assert confirmed["actor"] == "dispatcher" and confirmed["note"] == "看到了"

    # The browser goes away; three things happen; it comes back with the last id it saw.
    last_seen = first.received[-1][1]
    first.close()
    api.move(case_id, "dispatched")
    api.move(case_id, "resolved")
    api.publish_and_wait([make_event("cam-b", "curb", "illegal_parking_motor", 2.0)])
    second = Listener(api, last_event_id=last_seen)
    wait_until(lambda: len(second.changes()) >= 3, what="the missed changes")
    kinds = [(c["kind"], c["case"]["status"]) for c in second.changes()]
    assert kinds == [("transition", "dispatched"), ("transition", "resolved"), ("created", "new")]
    ids = [i for _t, i, event, _d in second.received if event == "change"]
    assert len(set(ids)) == len(ids)  # nothing twice
    api.move(case_id, "closed")
    wait_until(lambda: len(second.changes()) == 4, what="a live change after the catch-up")
    second.close()


def test_a_bad_last_event_id_is_a_clear_400_and_the_feed_needs_a_login(make_api):  # type: ignore
    api: Api = make_api(serve=True)
    bad = api.client.get("/api/live", headers={**api.auth("viewer"), "Last-Event-ID": "yesterday"})
    assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["detail"]
    assert api.client.get("/api/live").status_code == 401
