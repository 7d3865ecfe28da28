"""Train and export StreetWatch's own models: city footage in, a model plus its manifest out.

Entry-point tier: may import every package below it; only `cli` imports it. Ultralytics and
torch are imported inside the functions, so `streetwatch --help` stays fast.
"""

from training.dataset import (
    DatasetSummary,
    SplitSummary,
    build_pseudo_labelled_dataset,
    known_evidence_labels,
    validate_dataset,
)
from training.trainer import TrainingError, export, train

__all__ = [
    "DatasetSummary",
    "SplitSummary",
    "TrainingError",
    "build_pseudo_labelled_dataset",
    "export",
    "known_evidence_labels",
    "train",
    "validate_dataset",
]
