"""Benchmarks: what a camera costs to decode and to detect on, as ratios against references run alongside.

An entry-point package like `evaluation`: it may import everything below it, and only `cli` imports it.
Figures are measured, never asserted: tests check their structure and invariants, and the numbers go
into docs/performance.md with the command that produced them.

- `bench.decode`: every decode mode of `streams.FileSource` per core, against `ffmpeg -threads 1 -f null`
  on the same clip in the same run; frames decoded per frame analysed; cameras one core carries.
- `bench.detect`: `detector.Detector.detect` against raw `ultralytics.YOLO.predict` on the same frames,
  one frame per call and in batches.
"""

from bench.common import Machine, Stat
from bench.decode import DEFAULT_CLIPS, ClipInfo, ClipResult, DecodeReport, ModeResult, run_decode_bench
from bench.detect import DetectReport, DetectVariant, run_detect_bench

__all__ = [
    "DEFAULT_CLIPS",
    "ClipInfo",
    "ClipResult",
    "DecodeReport",
    "DetectReport",
    "DetectVariant",
    "Machine",
    "ModeResult",
    "Stat",
    "run_decode_bench",
    "run_detect_bench",
]
