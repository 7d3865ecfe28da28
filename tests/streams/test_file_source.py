from __future__ import annotations

import itertools

import numpy as np
import pytest

from streams import FileSource, SourceConfig, SourceError
from tests.conftest import HIGHWAY


def test_frames_are_sampled_on_the_clips_own_timeline():
    source = FileSource("hw", SourceConfig(url=str(HIGHWAY), analysis_fps=2))
    frames = list(source)
    stamps = np.array([f.ts_s for f in frames])
    # 11.2 s of 29.97 fps video at 2 analysed frames per second of video time.
    assert 21 <= len(frames) <= 23
    assert stamps[0] == pytest.approx(0.0, abs=0.05)
    assert np.allclose(np.diff(stamps), 0.5, atol=0.04)
    assert [f.seq for f in frames] == list(range(len(frames)))
    assert frames[0].image.shape == (720, 1280, 3)
    assert source.frames_decoded >= 330 and source.frames_analysed == len(frames)


def test_a_looping_clip_keeps_its_timeline_going():
    source = FileSource("hw", SourceConfig(url=str(HIGHWAY), analysis_fps=1, loop=True))
    stamps = []
    for frame in source:
        stamps.append(frame.ts_s)
        if len(stamps) == 25:
            break
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert stamps[-1] > 20.0  # past the 11.2 s clip: the second pass continues the timeline


def test_an_unreadable_file_is_a_clear_source_error(tmp_path):
    bogus = tmp_path / "not-a-video.mp4"
    bogus.write_bytes(b"this is not a video")
    with pytest.raises(SourceError, match=r"cannot open .*not-a-video\.mp4"):
        list(FileSource("cam", SourceConfig(url=str(bogus))))


def test_keyframe_mode_decodes_a_fraction_of_the_frames_and_vp9_decodes():
    from tests.conftest import ASSETS, RESIDENTIAL

    full = FileSource("resi", SourceConfig(url=str(RESIDENTIAL), analysis_fps=2))
    keys = FileSource("resi", SourceConfig(url=str(RESIDENTIAL), analysis_fps=2, decode="keyframes"))
    full_frames, key_frames = list(full), list(keys)
    assert full.frames_decoded == 734 and len(full_frames) == 146
    # One key frame every ~2 s: 36 decoded, each analysed, about 5 % of the decoding work.
    assert keys.frames_decoded == len(key_frames) == 36
    assert keys.frames_decoded * 15 < full.frames_decoded
    assert all(b.ts_s - a.ts_s > 1.0 for a, b in itertools.pairwise(key_frames))

    # H.264 High with B-frames and a single key frame: the decoder must still hand that frame over.
    london = FileSource("london", SourceConfig(url=str(ASSETS / "video" / "london-street-1080p.mp4"),
                                               decode="keyframes"))
    assert len(list(london)) == 1 and london.frames_decoded == 1

    vp9 = FileSource("vp9", SourceConfig(url=str(ASSETS / "video" / "city-traffic-1080p-vp9.mp4"), analysis_fps=1))
    frames = list(vp9)
    assert len(frames) == 11 and frames[0].image.shape == (1080, 1920, 3)  # 0 s, 1 s, ... 10 s
    assert vp9.frames_decoded == 312 and vp9.health.corrupt_packets == 0  # 10.4 s at 30 fps, all of it
