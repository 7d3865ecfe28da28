"""`streetwatch bench`: decode and detection cost as ratios against references run alongside.

Kept apart from cli/main.py so the heavy imports are paid only by this command; main registers it
with `app.command(name="bench")(bench_command)`. The measuring is in `bench/`; docs/performance.md
holds the figures and the command lines that produced them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal, cast

import typer

WHATS = ("decode", "detect", "all", "runtimes", "replay", "live", "web", "zones", "evidence", "pipeline",
         "cases", "latency", "precision")


def bench_command(
    what: Annotated[str, typer.Argument(help=" | ".join(WHATS))] = "decode",
    clips: Annotated[
        list[Path] | None,
        typer.Option(
            "--clip",
            help="A clip to measure (repeat the option). Default: the shared 1080p clips "
            "and the residential clip; detect uses the first clip given, else the pedestrian clip.",
        ),
    ] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Rounds; figures are medians with their spread.")] = 3,
    out: Annotated[Path | None, typer.Option(help="Write every figure as JSON here.")] = None,
    markdown: Annotated[bool, typer.Option(help="Print markdown tables, ready for docs/performance.md.")] = False,
    analysis_fps: Annotated[float, typer.Option(min=0.01, help="Frames analysed per second of video.")] = 1.0,
    hwaccel: Annotated[
        str, typer.Option(help="none | auto | cuda | vaapi, for the FileSource modes (falls back to software).")
    ] = "none",
    cpu: Annotated[int | None, typer.Option(help="CPU to pin decoding to; default the lowest usable.")] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            help="Weights for detect (the first given); replay: each to compare (repeat the option), "
            "default the previous default ONNX file against today's default."
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="detect, replay, pipeline: 'cpu', or '0' for the first GPU.")] = "cpu",
    frames: Annotated[
        int | None, typer.Option(min=1, help="Frames per round: detect 8, runtimes 40 unless given.")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="Frames per call in detect's batched variants.")] = 4,
    connections: Annotated[int, typer.Option(min=1, help="live: open dashboards (SSE connections).")] = 100,
    changes: Annotated[int, typer.Option(min=1, help="live: case changes made; zones: zone saves.")] = 200,
    rate: Annotated[float, typer.Option(min=0.1, help="live: case changes per second.")] = 10.0,
    cases: Annotated[int, typer.Option(min=0, help="web: open alerts (with evidence) the dashboard loads.")] = 20,
    database_url: Annotated[str | None, typer.Option(help="live: the API's database (default SQLite).")] = None,
    cameras: Annotated[
        list[int] | None,
        typer.Option("--cameras", min=1, help="pipeline: camera counts to run (repeat); default a search from one "
                     "camera per clip. latency: cameras whose events are sent (repeat); default 100 and 1000."),
    ] = None,
    decode_mode: Annotated[
        list[str] | None, typer.Option("--decode", help="pipeline: keyframes and/or all (repeat); default both.")
    ] = None,
    window: Annotated[
        float, typer.Option(min=1, help="pipeline: seconds measured per run, after a warm-up; latency: per run.")
    ] = 30.0,
    episodes_per_minute: Annotated[
        float, typer.Option(min=0.01, help="latency: new episodes per camera-minute (each updated, then ended).")
    ] = 1.0,
    warmup: Annotated[float, typer.Option(min=0, help="pipeline: seconds run before measuring.")] = 10.0,
    case_count: Annotated[
        int, typer.Option("--case-count", min=100, help="cases: cases seeded in PostgreSQL (re-used when there).")
    ] = 1_000_000,
    reference_cases: Annotated[int, typer.Option(min=100, help="cases: the reference database's cases.")] = 10_000,
    load_connections: Annotated[
        list[int] | None, typer.Option("--load-connections", min=1, help="cases: wrk connections (repeat).")
    ] = None,
    duration: Annotated[float, typer.Option(min=0.5, help="cases: seconds of wrk per scenario and count.")] = 5.0,
    postgres: Annotated[
        str, typer.Option(help="cases: the PostgreSQL server (its own databases streetwatch_bench_N are made).")
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
) -> None:
    """Measure decoding per core (against ffmpeg -threads 1), detection (against raw Ultralytics), the CPU
    runtimes side by side (ONNX Runtime, OpenVINO, OpenVINO batches), whole-pipeline CPU per frame, the live
    feed (latency to N dashboards against one), the dashboard's first load (headless Chromium), zone saves to
    a worker, what zone-level evidence adds to a camera's CPU time (against the same frames without), and the case
    list's latency under wrk on a million cases in PostgreSQL (against 10,000 in the same run)."""
    from bench import decode as decode_bench
    from bench import detect as detect_bench

    if what not in WHATS:
        typer.echo(f"错误 error: unknown benchmark {what!r}; choose one of {', '.join(WHATS)}", err=True)
        raise typer.Exit(2)
    if hwaccel not in ("none", "auto", "cuda", "vaapi"):
        typer.echo(f"错误 error: --hwaccel {hwaccel!r}: choose none, auto, cuda or vaapi", err=True)
        raise typer.Exit(2)
    modes = tuple(decode_mode or ("keyframes", "all"))
    if any(mode not in ("keyframes", "all") for mode in modes):
        typer.echo(f"错误 error: --decode {', '.join(modes)}: choose keyframes or all", err=True)
        raise typer.Exit(2)
    missing = [str(c) for c in clips or [] if not c.is_file()]
    if missing:
        typer.echo(f"错误 error: clip not found: {', '.join(missing)}", err=True)
        raise typer.Exit(2)

    def progress(message: str) -> None:
        typer.echo(f"  {message}", err=True)

    figures: dict[str, object] = {}
    texts = []
    try:
        if what in ("decode", "all"):
            typer.echo("==> decode", err=True)
            hw = cast(Literal["none", "auto", "cuda", "vaapi"], hwaccel)  # checked above
            report = decode_bench.run_decode_bench(
                clips or None,
                repeats=repeats,
                analysis_fps=analysis_fps,
                cpu="auto" if cpu is None else cpu,
                hwaccel=hw,
                progress=progress,
            )
            figures["decode"] = report.model_dump(mode="json")
            texts.append(decode_bench.render(report, markdown))
        if what in ("detect", "all"):
            typer.echo("==> detect", err=True)
            detect_report = detect_bench.run_detect_bench(
                clips[0] if clips else None,
                model=model[0] if model else None,
                device=device,
                frames=frames or 8,
                batch=batch,
                repeats=repeats,
                progress=progress,
            )
            figures["detect"] = detect_report.model_dump(mode="json")
            texts.append(detect_bench.render(detect_report, markdown))
        if what == "runtimes":
            from bench import runtimes as runtimes_bench

            typer.echo("==> runtimes: ONNX Runtime and OpenVINO on the same frames, OpenVINO batches", err=True)
            runtimes_report = runtimes_bench.run_runtimes_bench(
                clips[0] if clips else None, frames=frames or 40, repeats=repeats, progress=progress
            )
            figures["runtimes"] = runtimes_report.model_dump(mode="json")
            texts.append(runtimes_bench.render(runtimes_report, markdown))
        if what == "replay":
            from bench import replay_cost
            from models.registry import PREVIOUS_DEFAULT_MODEL_FILE, current_assets_dir, default_model_path

            compared = model or [str(current_assets_dir() / PREVIOUS_DEFAULT_MODEL_FILE), default_model_path()]
            typer.echo(f"==> whole-pipeline replay, {len(compared)} models side by side", err=True)
            replay_report = replay_cost.run_replay_cost(
                compared, clips[0] if clips else None, repeats=repeats, device=device, progress=progress
            )
            figures["replay"] = replay_report.model_dump(mode="json")
            texts.append(replay_cost.render(replay_report, markdown))
        if what == "live":
            from bench.live import measure_live
            from bench.live import render as render_live

            typer.echo(f"==> live feed: {connections} connections, {changes} changes at {rate}/s", err=True)
            live_report = measure_live(connections, changes, rate, database_url)
            figures["live"] = live_report.model_dump(mode="json")
            texts.append(render_live(live_report, markdown))
        if what == "web":
            from bench.web import local_dashboard, measure_dashboard
            from bench.web import markdown as render_web

            typer.echo(f"==> dashboard first load: {cases} open alerts, {repeats} cold runs", err=True)
            with local_dashboard(cases=cases) as (url, user, password):
                figures["web"] = measure_dashboard(url, user, password, repeats)
            texts.append(render_web(figures["web"]))
        if what == "zones":
            from bench.zones import measure_reload, measure_whatif

            typer.echo(f"==> zone saves to a running worker ({changes} saves), then a what-if", err=True)
            reload = measure_reload(changes)
            figures["zones"] = {"reload": reload, "whatif": measure_whatif(clips[0] if clips else None)}
            texts.append(json.dumps(figures["zones"], indent=2))
        if what == "evidence":
            from bench.evidence_cost import measure_evidence_cost
            from bench.evidence_cost import render as render_evidence

            typer.echo("==> zone-level evidence: a camera's CPU time with and without, same frames", err=True)
            evidence_report = measure_evidence_cost(clips[0] if clips else None, repeats=repeats, progress=progress)
            figures["evidence"] = evidence_report.model_dump(mode="json")
            texts.append(render_evidence(evidence_report))
        if what == "pipeline":
            from bench.pipeline import render as render_pipeline
            from bench.pipeline import run_pipeline_bench

            typer.echo(f"==> pipeline: cameras one core carries at {analysis_fps} analysed frames/s", err=True)
            pipeline_report = run_pipeline_bench(
                clips or _default_pipeline_clips(), cast(tuple[Literal["keyframes", "all"], ...], modes),
                cameras, analysis_fps, warmup, window, cpu, model[0] if model else None, repeats=repeats,
                device=device, progress=progress,
            )
            figures["pipeline"] = pipeline_report.model_dump(mode="json")
            texts.append(render_pipeline(pipeline_report))
        if what == "cases":
            from bench.cases import measure_cases
            from bench.cases import render as render_cases

            typer.echo(f"==> case API: {case_count:,} cases against {reference_cases:,}, wrk on one API process",
                       err=True)
            cases_report = measure_cases(case_count, reference_cases, load_connections, duration, postgres,
                                         progress=progress)
            figures["cases"] = cases_report.model_dump(mode="json")
            texts.append(render_cases(cases_report, markdown))
        if what == "precision":
            from bench import precision as precision_bench

            typer.echo("==> precision: float32 against the runtime's own choice, shared truth and time", err=True)
            precision_report = precision_bench.run_precision_bench(frames=frames or 40, repeats=repeats,
                                                                   progress=progress)
            figures["precision"] = precision_report.model_dump(mode="json")
            texts.append(precision_bench.render(precision_report, markdown))
        if what == "latency":
            from bench.case_latency import measure_latency
            from bench.case_latency import render as render_latency

            typer.echo("==> latency: events handed to the bus to cases on the live feed, PostgreSQL", err=True)
            latency_report = measure_latency(cameras or [100, 1000], window, episodes_per_minute,
                                             server_url=postgres, progress=progress)
            figures["latency"] = latency_report.model_dump(mode="json")
            texts.append(render_latency(latency_report))
    except (OSError, ValueError, RuntimeError) as exc:  # a clip FFmpeg cannot read, a CPU we may not use
        typer.echo(f"错误 error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo("\n\n".join(texts))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        typer.echo(f"figures written to {out}", err=True)


def _default_pipeline_clips() -> list[Path]:
    """The shared street clips a city camera resembles: 1080p streets and the residential clip."""
    from models.registry import current_assets_dir

    video = current_assets_dir() / "video"
    names = ("residential-street-parked-cars.mp4", "pedestrian-street-1080p.mp4", "london-street-1080p.mp4")
    return [video / name for name in names]
