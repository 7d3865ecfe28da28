"""The loop that ties the stages together: frames in, events out."""

from worker.config import CameraConfig, SchedulerConfig, WorkerConfig
from worker.live import Worker
from worker.pipeline import CameraPipeline
from worker.runner import CameraRun, replay
from worker.sharding import parse_shard, select_shard, shard_of

__all__ = [
    "CameraConfig",
    "CameraPipeline",
    "CameraRun",
    "SchedulerConfig",
    "Worker",
    "WorkerConfig",
    "parse_shard",
    "replay",
    "select_shard",
    "shard_of",
]
