"""The scene segmenter's configuration and what it can show, without loading it.

Here, below the worker, so that the API can report coverage (`/api/classes`) from the same schema the worker
runs by without importing the worker's evidence source (and with it the decoders and the models).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from detector.scene import SCENE_VARIANTS, SceneConfig
from zones.classes import ProblemClass
from zones.readings import SCENE_RULES
from zones.scene import available_groups


class SceneReadingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run the segmenter where zones watch water, garbage, bins, vending.")
    segmenter: SceneConfig = Field(default_factory=SceneConfig, description="The 150-class variant: the 32-class "
                                   "one is cheaper but has no awnings, stalls, bags, boxes or ashcans.")
    every_n_frames: int = Field(60, ge=1, le=10_000, description="One analysed frame in N is segmented (every "
                                "30 s at 2 analysed frames/s: these problems change over minutes, and a segmentation "
                                "costs about five detections; docs/performance.md).")


def scene_classes(config: SceneReadingConfig) -> frozenset[ProblemClass]:
    """Classes the configured segmenter can show at all (the 32-class variant lacks awnings, bags, ashcans)."""
    if not config.enabled or not config.segmenter.model_path().is_file():
        return frozenset()
    groups = set(available_groups(SCENE_VARIANTS[config.segmenter.variant].classes))
    return frozenset(p for p, rule in SCENE_RULES.items() if groups & set(rule.groups)
                     and (rule.context is None or rule.context in groups))


def scene_details(config: SceneReadingConfig) -> dict[ProblemClass, str]:
    """For coverage reports: per class the segmenter shows, which groups and at what rate."""
    groups = set(available_groups(SCENE_VARIANTS[config.segmenter.variant].classes))
    return {problem: f"ADE20K {config.segmenter.variant}: {', '.join(g for g in rule.groups if g in groups)}"
                     + (f" beside {rule.context}" if rule.context else "")
                     + f", one analysed frame in {config.every_n_frames}"
            for problem, rule in SCENE_RULES.items() if problem in scene_classes(config)}
