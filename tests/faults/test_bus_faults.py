"""Redis, the API and a worker killed, restarted and frozen mid-stream: every event stored once, nothing lost.

Each test sends thousands of events (a start and an end per episode, every episode at its own place)
and then looks for every one of them in the database (tests.faults.conftest.tally). The figures go
to var/reliability/faults.jsonl for docs/reliability.md.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

from bus import DiskSpool, EventPublisher, SpoolingPublisher
from bus.control import ControlListener, ResendRequest
from models.registry import PROJECT_ROOT
from tests.faults.conftest import bus_on, episodes, record, spooled, tally, wait_for_all
from tests.helpers import wait_until


def _sink(bus, folder: Path) -> SpoolingPublisher:  # type: ignore[no-untyped-def]
    return SpoolingPublisher(EventPublisher(bus), DiskSpool(folder / "worker-spool.sqlite"), retry_s=0.2)


def _hand_over(sink: SpoolingPublisher, events: list, batch: int = 50) -> None:  # type: ignore[type-arg]
    for at in range(0, len(events), batch):
        sink(events[at:at + batch])


def test_redis_killed_with_its_data_on_disk_loses_nothing(pg, redis_aof, api_process, tmp_path):  # type: ignore
    bus = bus_on(redis_aof)
    api_process(pg.url, bus)
    sink = _sink(bus, tmp_path)
    sent = episodes(1500, "aof")
    _hand_over(sink, sent[:1000])
    assert sink.flush(60)
    redis_aof.kill()  # SIGKILL mid-stream; its append-only file has every write
    _hand_over(sink, sent[1000:2000])  # the worker keeps these in its spool meanwhile
    redis_aof.start()
    _hand_over(sink, sent[2000:])
    assert sink.flush(120)
    counted = wait_for_all(pg.url, sent)
    record("redis SIGKILL, AOF", counted, spooled_during_outage=1000)
    assert counted.exact(), counted
    sink.close()


def test_redis_restarted_without_its_data_is_noticed_and_the_workers_resend(pg, redis_plain, api_process,
                                                                            tmp_path):  # type: ignore
    bus = bus_on(redis_plain)
    api = api_process(pg.url, bus)
    sink = _sink(bus, tmp_path)
    stop = threading.Event()
    listener = ControlListener(bus, control_handler_for(sink), stop)  # the worker's ear on the control stream
    listener.start()
    wait_until(listener.ready.is_set, what="the worker's control listener")
    sent = episodes(1500, "wipe")
    _hand_over(sink, sent[:2000])
    assert sink.flush(60)
    redis_plain.kill()  # gone with everything not yet stored: the stream, the group, the epoch
    redis_plain.wipe()
    redis_plain.start()
    _hand_over(sink, sent[2000:])
    assert sink.flush(120)
    counted = wait_for_all(pg.url, sent)
    losses = api.get("/api/health", headers=api.admin()).json()["figures"]["redis_data_losses"]
    record("redis SIGKILL, no persistence", counted, resent=sink.spool.stats().resent, incidents=losses["count"])
    assert counted.exact(), counted
    assert losses["count"] == 1 and losses["last_at"]  # counted and reported, never silent
    assert sink.spool.stats().resent > 0  # the API noticed and asked; the worker sent its recent past again
    stop.set()
    sink.close()


def control_handler_for(sink: SpoolingPublisher):  # type: ignore[no-untyped-def]
    return lambda message: sink.resend(message.since) if isinstance(message, ResendRequest) else None


def test_api_killed_mid_batch_and_another_consumer_takes_over(pg, redis_plain, api_process, tmp_path):  # type: ignore
    bus = bus_on(redis_plain, claim_idle_ms=2000)
    first = api_process(pg.url, bus, name="api-1")
    second = api_process(pg.url, bus, name="api-2")
    sink = _sink(bus, tmp_path)
    sent = episodes(1500, "kill")
    _hand_over(sink, sent[:1500])
    wait_until(lambda: tally(pg.url, sent).stored > 200, timeout_s=60, what="some events stored")
    first.kill()  # SIGKILL with messages read and not acknowledged
    _hand_over(sink, sent[1500:])
    assert sink.flush(60)
    counted = wait_for_all(pg.url, sent)  # the second consumer claims what the first left pending
    first.start()  # and the first comes back
    record("API SIGKILL, two consumers", counted)
    assert counted.exact(), counted
    assert second.get("/api/health/live").status_code == 200
    sink.close()


def test_a_worker_killed_mid_run_drains_its_spool_when_it_starts_again(pg, redis_plain, api_process,
                                                                       tmp_path):  # type: ignore
    bus = bus_on(redis_plain)
    api_process(pg.url, bus)
    spool = tmp_path / "worker.sqlite"
    sent = episodes(1500, "worker")
    redis_plain.freeze()  # Redis accepts connections and never answers: everything goes to the spool
    command = [sys.executable, "-m", "tests.faults.publisher", bus.redis_url, bus.stream, str(spool), "1500", "worker"]
    worker = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    assert worker.stdout.readline().startswith("handed over 3000")
    wait_until(lambda: spooled(spool) >= 2900, timeout_s=60, what="the worker's spool to fill")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    redis_plain.thaw()
    again = subprocess.run([*command[:-2], "0", "worker"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                           timeout=180)
    assert again.returncode == 0, again.stdout + again.stderr
    counted = wait_for_all(pg.url, sent)
    record("worker SIGKILL with a full spool", counted)
    assert counted.exact(), counted
