"""`streetwatch`: the entry points of the service."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cli.bench_command import bench_command
from cli.common import load_or_exit
from cli.eval_command import eval_command
from cli.models_command import models_app
from cli.synth_command import synth_command
from cli.train_command import dataset_command, export_command, train_command
from cli.users_command import users_app
from cli.zones_command import zones_app
from settings import DEMO_CONFIG, AppConfig

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="StreetWatch 街道巡查: AI video events for street-level monitoring.",
)

# A worker or replay that stops with events still in its spool (Redis away) says so: EX_TEMPFAIL.
EXIT_SPOOLED = 75
# A worker whose shard lease was lost stopped those cameras; its restart claims a shard again.
EXIT_LEASE_LOST = 3

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="YAML configuration (cameras, zones, rules, settings).")
]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from streams.redact import install_log_redaction

    install_log_redaction()  # camera passwords never reach a log


def stop_on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM (docker stop, Kubernetes) and SIGINT stop the cameras; the caller then drains or spools."""

    def handler(signum: int, _frame: object) -> None:
        logging.getLogger("streetwatch").info("signal %d: stopping", signum)
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


@app.command()
def replay(
    video: Annotated[Path, typer.Argument(help="Clip to replay through the whole pipeline.")],
    config: ConfigOption = DEMO_CONFIG,
    out: Annotated[Path | None, typer.Option(help="Write every event here as JSON lines.")] = None,
    camera: Annotated[str | None, typer.Option(help="Whose zones to use; the first camera by default.")] = None,
    publish: Annotated[bool, typer.Option(help="Also publish the events to the Redis stream.")] = False,
    verbose: bool = False,
) -> None:
    """Replay a recorded clip as fast as the machine allows and report its events."""
    from bus import SnapshotStore, spooling_sink, write_jsonl
    from detector import DetectorError
    from streams import SourceConfig
    from worker import replay as run_replay

    _setup_logging(verbose)
    settings = load_or_exit(config)
    chosen = _pick_camera(settings, camera)
    try:
        # The camera's own decoding settings, on this clip, played once as fast as possible.
        settings_of_camera = chosen.source.model_dump(exclude={"url", "analysis_url", "loop", "realtime"})
        source = SourceConfig(url=str(video), **settings_of_camera)
    except ValueError as exc:
        typer.echo(f"错误 error: {exc}", err=True)
        raise typer.Exit(2) from None
    camera_config = chosen.model_copy(update={"source": source})
    sink = spooling_sink(settings.bus, "replay") if publish else None
    try:
        run = run_replay(settings, camera_config, sink if sink else (lambda _events: None),
                         SnapshotStore(settings.media_dir))
    except DetectorError as exc:
        _model_failure(exc)
    finally:
        waiting = sink.close() if sink is not None else 0
    if out is not None:  # whatever Redis did: the events are the replay's, not the bus's
        write_jsonl(run.events, out)
    starts = sum(1 for e in run.events if e.state == "start")
    typer.echo(f"{run.frames} frames analysed, {len(run.events)} events, {starts} episodes"
               + (f"; written to {out}" if out else ""))
    if waiting:
        typer.echo(f"警告 warning: Redis did not take {waiting} event(s); they wait in "
                   f"{settings.bus.spool_dir} and are sent by the next `replay --publish` or worker", err=True)
        raise typer.Exit(EXIT_SPOOLED)


def _model_failure(exc: Exception) -> NoReturn:
    """A model that does not load ends the command with its one-line reason, never a traceback."""
    typer.echo(f"错误 error: {exc}", err=True)
    raise typer.Exit(2) from None


def _pick_camera(settings: AppConfig, camera_id: str | None):  # type: ignore[no-untyped-def]
    if not settings.cameras:
        typer.echo("错误 error: the configuration has no cameras (and so no zones)", err=True)
        raise typer.Exit(2)
    if camera_id is None:
        return settings.cameras[0]
    for camera in settings.cameras:
        if camera.id == camera_id:
            return camera
    typer.echo(f"错误 error: no camera {camera_id!r} in the configuration", err=True)
    raise typer.Exit(2)


@app.command()
def worker(
    config: ConfigOption = DEMO_CONFIG,
    shard: Annotated[
        str | None,
        typer.Option(envvar="STREETWATCH_SHARD",
                     help="I/N: take the cameras whose id hashes to shard I of N; auto/N reads I from a "
                          "StatefulSet pod name (worker-3); claim/N takes a free I through a Redis lease."),
    ] = None,
    verbose: bool = False,
) -> None:
    """Run the configured cameras (or this replica's shard of them) and publish events to Redis."""
    import socket

    from bus import ShardLease, spooling_sink
    from cli.worker_setup import connected_worker
    from detector import DetectorError
    from worker import parse_shard, select_shard

    _setup_logging(verbose)
    settings = load_or_exit(config)
    cameras = settings.cameras
    lease = None
    index = count = 0
    if shard:
        try:
            index, count = parse_shard(shard)
            if index is None:
                lease = ShardLease(settings.bus, count, owner=socket.gethostname())
                index = lease.claim()
        except (ValueError, RuntimeError) as exc:
            typer.echo(f"错误 error: {exc}", err=True)
            raise typer.Exit(2) from None
        cameras = select_shard(cameras, index, count)
        logging.getLogger("streetwatch").info("shard %d/%d: %d of %d cameras", index, count, len(cameras),
                                              len(settings.cameras))
    sink = spooling_sink(settings.bus, f"shard-{index}-of-{count}" if shard else "worker")
    try:
        running = connected_worker(settings, cameras, sink)
    except DetectorError as exc:
        sink.close(timeout_s=1)
        if lease is not None:
            lease.release()
        _model_failure(exc)
    stop_on_signals(running.stop)
    if lease is not None:  # a lost lease may already be someone else's shard: its cameras stop now
        lease.on_lost = lambda _index: running.stop()
        if lease.lost.is_set():
            running.stop()
    try:
        while running.alive:
            running.join(1.0)
    finally:
        running.stop()
        running.join(10)
        if running.whatif is not None:
            running.whatif.close()
        waiting = sink.close(timeout_s=10)
        logging.getLogger("streetwatch").info("events: %d handed over, %d published, %d waiting in the spool",
                                              sink.handed_over, sink.sent, waiting)
        if lease is not None:
            lease.release()
    if waiting:
        raise typer.Exit(EXIT_SPOOLED)
    if lease is not None and lease.lost.is_set():
        raise typer.Exit(EXIT_LEASE_LOST)


@app.command()
def api(
    config: ConfigOption = DEMO_CONFIG,
    host: Annotated[str | None, typer.Option(help="Listen address; the config's api.host by default.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port; the config's api.port by default.")] = None,
    verbose: bool = False,
) -> None:
    """Serve the case API and consume events from Redis into cases."""
    import uvicorn

    from api.app import create_app

    _setup_logging(verbose)
    settings = load_or_exit(config)
    application = create_app(settings.api, settings.bus, settings.media_dir, settings.detector, settings.cameras,
                             scene=settings.scene)
    # Headers are bounded (h11's 16 KiB for the request line and headers), bodies by api.max_body_bytes.
    # X-Forwarded-For is read by the app from api.auth.trusted_proxies only, never by uvicorn's own default.
    # log_config=None: uvicorn's loggers write through the root handler _setup_logging made, which redacts.
    uvicorn.run(application, host=host or settings.api.host, port=port or settings.api.port, log_level="info",
                h11_max_incomplete_event_size=16 * 1024, timeout_keep_alive=30, proxy_headers=False,
                log_config=None)


@app.command()
def demo(
    config: ConfigOption = DEMO_CONFIG,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    verbose: bool = False,
) -> None:
    """Replay the shipped clip as a live camera, raise cases, and serve them at the API."""
    from cli.demo import run_demo
    from detector import DetectorError

    _setup_logging(verbose)
    try:
        run_demo(load_or_exit(config), duration)
    except DetectorError as exc:
        _model_failure(exc)


# Commands for testers and model owners, each in its own module.
app.command(name="eval")(eval_command)
app.command(name="bench")(bench_command)
app.add_typer(models_app, name="models")
app.command(name="dataset")(dataset_command)
app.command(name="train")(train_command)
app.command(name="export")(export_command)
app.command(name="synth")(synth_command)
app.add_typer(users_app, name="users")
app.add_typer(zones_app, name="zones")


if __name__ == "__main__":
    app()
