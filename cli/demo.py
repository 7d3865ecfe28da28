"""One process, embedded defaults: a looping clip as a camera, cases in SQLite, the API on :8000."""

from __future__ import annotations

import logging
import threading
import time

import redis
import typer
import uvicorn

from api.app import create_app
from api.services.lifecycle import Role
from api.services.users import UserStore, generate_password
from bus import SnapshotStore, SpoolingPublisher, redis_client, spooling_sink
from cli.worker_setup import connected_worker
from settings import AppConfig
from worker import Worker

log = logging.getLogger(__name__)

DEMO_USER = "demo"


def _redis_available(url: str) -> bool:
    try:
        return bool(redis_client(url).ping())
    except (redis.RedisError, OSError):
        return False


def run_demo(settings: AppConfig, duration: float | None) -> None:
    use_redis = _redis_available(settings.bus.redis_url)
    api_config = settings.api.model_copy(update={"consume": use_redis})
    application = create_app(api_config, settings.bus, settings.media_dir, settings.detector, settings.cameras,
                             scene=settings.scene)
    password = _demo_account(application.state.users)
    if use_redis:
        sink = spooling_sink(settings.bus, "demo")
        route = f"Redis Stream {settings.bus.stream} @ {settings.bus.redis_url}"
    else:
        store = application.state.case_store

        def sink(events):  # type: ignore[no-untyped-def]
            for event in events:
                store.apply(event)

        route = "直接写入案件库 straight into the case store (Redis 不可用 / Redis unreachable)"

    server = uvicorn.Server(
        uvicorn.Config(application, host=settings.api.host, port=settings.api.port, log_level="warning",
                       proxy_headers=False,  # X-Forwarded-For only from api.auth.trusted_proxies
                       log_config=None)  # through the redacting root handler, as every other log line
    )
    server_thread = threading.Thread(target=server.run, name="api", daemon=True)
    server_thread.start()
    while not server.started and server_thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        raise typer.Exit(1)

    if use_redis:  # the zones operators saved (seeded from the file on the first run), then the worker
        application.state.zone_sync.publish()
        running = connected_worker(settings, settings.cameras, sink, name="demo", metrics=False)
    else:
        running = Worker(settings, sink, SnapshotStore(settings.media_dir))
        running.start()
    base = f"http://{settings.api.host}:{settings.api.port}"
    cameras = ", ".join(f"{c.id} ← {c.source.url}" for c in settings.cameras)
    typer.echo(
        "\nStreetWatch 演示 demo 运行中 / running\n"
        f"  指挥大屏 dashboard : {base}/   登录 log in: {DEMO_USER} / {password}\n"
        f"  摄像头 cameras : {cameras}\n"
        f"  事件 events    : {route}\n"
        f"  案件库 cases   : {settings.api.database_url}\n"
        f"  证据 evidence  : {settings.media_dir}\n"
        f"  案件 cases     : {base}/api/cases\n"
        f"  接口 API docs  : {base}/docs\n"
        f"  健康 health    : {base}/api/health\n"
        "  Ctrl-C 停止 / to stop\n"
    )
    deadline = None if duration is None else time.monotonic() + duration
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
            if not running.alive:
                break
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
        running.join(10)
        if running.whatif is not None:
            running.whatif.close()
        if isinstance(sink, SpoolingPublisher):
            sink.close(timeout_s=5.0)
            _drain(application.state.consumer, timeout_s=5.0)
        server.should_exit = True
        server_thread.join(10)
    cases = application.state.case_store.count()
    typer.echo(f"演示结束 demo stopped: {cases} case(s) in {settings.api.database_url}")


def _demo_account(users: UserStore) -> str:
    """The demo's own admin account, with a fresh password each run (printed, never a default)."""
    password = generate_password()
    if users.get(DEMO_USER) is None:
        users.add(DEMO_USER, Role.ADMIN, password, display_name="演示管理员 demo admin")
    else:
        users.set_password(DEMO_USER, password)
        users.update(DEMO_USER, role=Role.ADMIN, active=True)
    return password


def _drain(consumer, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    """Give the consumer a moment to turn the last published events into cases."""
    deadline = time.monotonic() + timeout_s
    while consumer is not None and time.monotonic() < deadline:
        try:
            if not consumer.consumer.backlog():
                return
        except redis.RedisError:
            return
        time.sleep(0.1)
