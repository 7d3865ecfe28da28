"""Replay bench: labelled clips through the live pipeline, events scored against the labels.

An entry-point package: it may import everything below it, and only `cli` imports it.
"""

from evaluation.runner import ClipRun, run_clips
from evaluation.scoring import ClipInput, ClipScore, Counts, Span, Summary, score_clip, summarise
from evaluation.truth import TruthClip, TruthEpisode, TruthFile, load_truth

__all__ = [
    "ClipInput",
    "ClipRun",
    "ClipScore",
    "Counts",
    "Span",
    "Summary",
    "TruthClip",
    "TruthEpisode",
    "TruthFile",
    "load_truth",
    "run_clips",
    "score_clip",
    "summarise",
]
