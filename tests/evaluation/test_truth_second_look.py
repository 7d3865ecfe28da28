"""A truth file sets the second look as a worker's configuration does, and the replay runs with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation import load_truth
from settings import ConfigError
from tests.conftest import ASSETS

CLIP = ASSETS / "video" / "pedestrian-street-1080p.mp4"


def _truth(tmp_path: Path, second_look: str) -> Path:
    path = tmp_path / "truth.yaml"
    path.write_text(f"""
second_look: {second_look}
clips:
  - video: {CLIP}
    zones:
      - {{id: far-shops, kind: shop_front, polygon: [[0.35, 0.0], [0.6, 0.0], [0.6, 0.3], [0.35, 0.3]]}}
    truth: []
""", encoding="utf-8")
    return path


def test_the_truth_files_second_look_reaches_the_clips_worker_configuration(tmp_path: Path):
    truth = load_truth(_truth(tmp_path, "{enabled: false, max_crops: 2}"))
    config = truth.worker_config(0)
    assert config.second_look.enabled is False and config.second_look.max_crops == 2
    assert load_truth(_truth(tmp_path, "{}")).worker_config(0).second_look.enabled is True


def test_a_second_look_setting_nothing_reads_is_refused_naming_it(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        load_truth(_truth(tmp_path, "{tiles: 4}"))
    assert "second_look" in str(caught.value) and "tiles" in str(caught.value)
