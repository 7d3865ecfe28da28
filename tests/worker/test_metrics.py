"""The worker's Prometheus metrics after a real replay through the real spool and Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bus import BusConfig, spooling_sink
from settings import load_config
from streams import FileSource
from tests.e2e.conftest import DATA
from worker import Worker
from worker.metrics import WorkerMetrics
from worker.stages import STAGES


def test_a_replayed_camera_shows_its_frames_inference_and_events(detector, redis_bus: BusConfig, tmp_path: Path):
    settings = load_config(DATA / "residential.yaml")
    sink = spooling_sink(redis_bus.model_copy(update={"spool_dir": str(tmp_path / "spool")}), "metrics")
    worker = Worker(settings, sink, detector=detector)
    worker.metrics = WorkerMetrics(worker, sink)
    worker.start()
    worker.join(300)
    assert sink.flush(30)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(generate_latest(worker.metrics.registry).decode())
               for s in family.samples}
    camera = (("camera", "resi-1"),)
    # Compared with what is there outside the worker: the clip's own frames at the analysis rate, read again
    # here, and the events that reached the Redis stream.
    clip_frames = sum(1 for _ in FileSource("count", settings.cameras[0].source))
    analysed = samples[("streetwatch_frames_total", (*camera, ("stage", "analysed")))]
    assert analysed == clip_frames > 100
    assert samples[("streetwatch_frames_total", (*camera, ("stage", "decoded")))] > analysed
    batch = settings.scheduler.batch_size  # every inference call takes 1 to batch_size frames
    assert analysed / batch <= samples[("streetwatch_inference_seconds_count", ())] <= analysed
    published = samples[("streetwatch_events_total", (("outcome", "published"),))]
    in_redis = redis.Redis.from_url(redis_bus.redis_url).xlen(redis_bus.stream)
    assert published == samples[("streetwatch_events_total", (("outcome", "handed_over"),))] == in_redis > 0
    assert samples[("streetwatch_spool_events", ())] == 0
    assert samples[("streetwatch_frame_age_seconds_count", ())] == analysed
    assert samples[("streetwatch_frame_age_seconds_sum", ())] > 0
    stages = {stage: samples[("streetwatch_stage_cpu_seconds_total", (("stage", stage),))] for stage in STAGES}
    assert stages == pytest.approx(worker.stages.snapshot())
    assert stages["inference"] > stages["tracking"] > 0 and stages["zones_rules"] > 0 and stages["publishing"] > 0
    assert not any(name == "streetwatch_rule_failures_total" for name, _labels in samples)  # every rule ran clean
    worker.pipelines["resi-1"].rule_failures["illegal_parking_motor/far-curb"] += 3  # as a failing rule counts
    failed = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in text_string_to_metric_families(generate_latest(worker.metrics.registry).decode())
              for s in family.samples if s.name == "streetwatch_rule_failures_total"}
    assert failed == {("streetwatch_rule_failures_total", (*camera, ("rule", "illegal_parking_motor/far-curb"))): 3}
    sink.close()
