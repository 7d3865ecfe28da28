"""Webhooks to a real receiver on loopback: every change once, signed, in order; a receiver that was down
gets everything once it is back."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.api_fixture import Api
from tests.helpers import make_event, wait_until
from tests.servers import free_port

SECRET = "hotline-shared-secret-2026"


class Receiver(ThreadingHTTPServer):
    def __init__(self, port: int) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((dict(self.headers), body))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def receiving(port: int) -> Iterator[Receiver]:
    server = Receiver(port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class SteppingClock:
    """The real clock, plus whatever the test moves it on by (to skip a retry's backoff)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _signed(headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(SECRET.encode(), headers["X-StreetWatch-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-StreetWatch-Signature"], f"sha256={expected}")


def test_each_change_reaches_the_receiver_once_signed_and_in_order(make_api):  # type: ignore[no-untyped-def]
    port = free_port()
    hook = {"name": "hotline-12345", "url": f"http://127.0.0.1:{port}/streetwatch", "secret": SECRET}
    with receiving(port) as receiver:
        api: Api = make_api(webhooks=[hook], verification={"enabled": False})
        api.publish_and_wait([make_event("cam-a", "gate", "illegal_parking_motor", 1.0)])
        case_id = api.cases()[0]["id"]
        api.move(case_id, "confirmed", note="已核实")
        api.move(case_id, "dispatched")
        wait_until(lambda: len(receiver.requests) == 3, what="three deliveries")
    bodies = [json.loads(body) for _h, body in receiver.requests]
    assert [(b["kind"], b["case"]["status"]) for b in bodies] == [
        ("created", "new"), ("transition", "confirmed"), ("transition", "dispatched")]
    assert all(_signed(h, body) for h, body in receiver.requests)
    assert bodies[1]["note"] == "已核实" and bodies[1]["actor"] == "dispatcher"
    assert {b["national_event_code"] for b in bodies} == {"09009"}
    assert len({h["X-StreetWatch-Delivery"] for h, _b in receiver.requests}) == 3
    assert not _signed({**receiver.requests[0][0], "X-StreetWatch-Timestamp": "1"}, receiver.requests[0][1])
    recorded = api.get("/api/webhooks/deliveries", role="admin").json()
    assert {d["status"] for d in recorded} == {"delivered"} and all(d["attempts"] == 1 for d in recorded)
    assert SECRET not in json.dumps(recorded) and SECRET not in api.get("/openapi.json").text


def test_a_receiver_that_was_down_gets_every_change_after_it_comes_back(make_api):  # type: ignore[no-untyped-def]
    port = free_port()
    clock = SteppingClock()
    hook = {"name": "city-ops", "url": f"http://127.0.0.1:{port}/in", "secret": SECRET, "timeout_s": 1}
    api: Api = make_api(webhooks=[hook], verification={"enabled": False}, clock=clock)
    api.publish_and_wait([make_event("cam-a", f"z{i}", "illegal_parking_motor", 1.0) for i in range(3)])
    for case in api.cases():
        api.move(case["id"], "confirmed")

    def failed_once() -> bool:
        rows = api.get("/api/webhooks/deliveries", role="admin").json()
        return len(rows) == 6 and any(r["attempts"] >= 1 and r["last_error"] for r in rows)

    wait_until(failed_once, what="a failed attempt while the receiver is down")
    pending = api.get("/api/webhooks/deliveries", role="admin", params={"status": "pending"}).json()
    assert len(pending) == 6 and "ConnectError" in next(r["last_error"] for r in pending if r["last_error"])
    with receiving(port) as receiver:
        clock.offset = timedelta(hours=1)  # past any backoff
        wait_until(lambda: len(receiver.requests) == 6, what="everything once the receiver is back")
        changes = [json.loads(body)["change_id"] for _h, body in receiver.requests]
    assert changes == sorted(changes) and len(set(changes)) == 6
    assert all(_signed(h, body) for h, body in receiver.requests)
    delivered = api.get("/api/webhooks/deliveries", role="admin", params={"status": "delivered"}).json()
    assert len(delivered) == 6
