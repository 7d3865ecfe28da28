"""The loop that ties the stages together: frames in, events out."""

from worker.config import CameraConfig, WorkerConfig
from worker.pipeline import CameraPipeline
from worker.runner import CameraRun, Worker, replay

__all__ = ["CameraConfig", "CameraPipeline", "CameraRun", "Worker", "WorkerConfig", "replay"]
