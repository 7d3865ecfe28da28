"""CCTV-like synthetic data: trashbags cut-outs pasted on the ground of the shared street clips.

The recipe lives here so anyone can regenerate it (`streetwatch synth`, docs/training.md). Train and
test are kept apart by source clip (SPLIT below) and by source photo of the bags (cutouts.py).
"""

from training.synthesis.recipe import SPLIT, TEST_CLIPS, TRAIN_CLIPS, SynthResult, synthesize

__all__ = ["SPLIT", "TEST_CLIPS", "TRAIN_CLIPS", "SynthResult", "synthesize"]
