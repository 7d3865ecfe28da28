"""Model loading, inference and tracking. Produces `Detections`; knows nothing of zones."""

from detector.config import DetectorConfig, ModelSpec, TrackerConfig
from detector.detections import Detections
from detector.tracking import Tracker
from detector.yolo import Detector, DetectorError

__all__ = ["Detections", "Detector", "DetectorConfig", "DetectorError", "ModelSpec", "Tracker", "TrackerConfig"]
