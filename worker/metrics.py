"""Prometheus metrics of a worker, served on `scheduler.metrics_port` with the standard client library.

Per camera: frames decoded, analysed and dropped, frames waiting; for the process: inference time
per batch and per frame, frame age at hand-over, CPU per stage of the inference thread, events
handed over and published, the spool's size, age and drops, snapshots waiting, written, dropped
and failed, and the frames each rule failed on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from bus import SpoolingPublisher
    from worker.live import Worker

_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56)


class WorkerMetrics(Collector):
    def __init__(self, worker: Worker, sink: SpoolingPublisher | None) -> None:
        self.worker = worker
        self.sink = sink
        self.registry = CollectorRegistry(auto_describe=False)
        self.inference_seconds = Histogram("streetwatch_inference_seconds", "Detector time per batch.",
                                           buckets=_BUCKETS, registry=self.registry)
        self.batch_frames = Histogram("streetwatch_inference_batch_frames", "Frames per inference call.",
                                      buckets=(1, 2, 4, 8, 16, 32, 64), registry=self.registry)
        self.frame_age_seconds = Histogram("streetwatch_frame_age_seconds", "From a frame's decoding to its events "
                                           "handed to the bus: how far behind live the worker runs.",
                                           buckets=_BUCKETS, registry=self.registry)
        self.zone_readings_seconds = Histogram("streetwatch_zone_readings_seconds", "Segmenter and zone "
                                               "classifiers per batch (most batches run neither).",
                                               buckets=_BUCKETS, registry=self.registry)
        self.registry.register(self)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        frames = CounterMetricFamily("streetwatch_frames", "Frames per camera by what became of them.",
                                     labels=["camera", "stage"])
        queued = GaugeMetricFamily("streetwatch_frames_queued", "Analysed frames waiting for the detector.",
                                   labels=["camera"])
        online = GaugeMetricFamily("streetwatch_camera_online", "1 when the camera is online.", labels=["camera"])
        for report in self.worker.health():
            camera = report["camera_id"]
            for stage in ("frames_decoded", "frames_analysed", "frames_dropped", "frames_processed"):
                frames.add_metric([camera, stage.removeprefix("frames_")], report.get(stage, 0))
            queued.add_metric([camera], report.get("queued", 0))
            online.add_metric([camera], 1 if report.get("state") == "online" else 0)
        yield frames
        yield queued
        yield online
        stages = CounterMetricFamily("streetwatch_stage_cpu_seconds", "CPU of the inference thread per stage "
                                     "(the runtime's own threads and decoding are not in it).", labels=["stage"])
        for stage, seconds in self.worker.stages.snapshot().items():
            stages.add_metric([stage], seconds)
        yield stages
        writer = self.worker.writer  # snapshots, written off the inference thread
        yield GaugeMetricFamily("streetwatch_evidence_pending", "Snapshots waiting to be written (their "
                                "events wait with them).", value=writer.pending)
        pictures = CounterMetricFamily("streetwatch_evidence_pictures", "Snapshots by what became of them.",
                                       labels=["outcome"])
        for outcome in ("written", "dropped", "failed"):
            pictures.add_metric([outcome], getattr(writer, outcome))
        yield pictures
        failures = CounterMetricFamily("streetwatch_rule_failures", "Frames a rule failed on (logged once each); "
                                       "the camera's other rules kept their events.", labels=["camera", "rule"])
        for camera, pipeline in self.worker.pipelines.items():
            for rule, count in pipeline.rule_failures.items():
                failures.add_metric([camera, rule], count)
        yield failures
        yield CounterMetricFamily("streetwatch_second_look_crops", "Zone crops detected again beside their frames "
                                  "(small zones watching scene problems).", value=self.worker.second_look.crops_run)
        if self.sink is not None:
            events = CounterMetricFamily("streetwatch_events", "Events by how they left the worker.",
                                         labels=["outcome"])
            events.add_metric(["handed_over"], self.sink.handed_over)
            events.add_metric(["published"], self.sink.sent)
            events.add_metric(["dropped_in_memory"], self.sink.dropped_in_memory)
            yield events
            stats = self.sink.spool.stats()
            yield GaugeMetricFamily("streetwatch_spool_events", "Events waiting in the spool.", value=stats.size)
            yield CounterMetricFamily("streetwatch_spool_resent", "Events sent again after Redis lost its data.",
                                      value=stats.resent)
            yield GaugeMetricFamily("streetwatch_spool_oldest_seconds", "Age of the oldest spooled event.",
                                    value=stats.oldest_age_s or 0)
            dropped = CounterMetricFamily("streetwatch_spool_dropped", "Events a full spool dropped.",
                                          labels=["kind"])
            dropped.add_metric(["update"], stats.dropped_updates)
            dropped.add_metric(["start_or_end"], stats.dropped_critical)
            yield dropped

    def serve(self, port: int, address: str = "0.0.0.0") -> None:
        start_http_server(port, addr=address, registry=self.registry)
