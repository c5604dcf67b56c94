"""evo.fitness.previews: reuse the frames the statistics read, keep the count and real speed."""

from evo.config import EvalSettings
from evo.fitness.candidate import wanted_frames
from evo.fitness.previews import preview_durations, preview_indices
from helpers import eval_settings


def test_preview_reuses_sampled_frames_so_only_the_still_is_extra():
    s = EvalSettings()  # 90 frames, samples every 4th from 8: 21 frames, 18 preview frames
    picks = preview_indices(s, s.fitness.frames)
    assert len(picks) == s.preview.frames
    assert picks == sorted(set(picks))
    assert set(picks) <= set(s.sample_indices())
    assert picks[0] == s.sample_indices()[0] and picks[-1] == s.sample_indices()[-1]  # the whole span
    assert wanted_frames(s, previews=True) == set(s.sample_indices()) | {s.fitness.frames - 1}


def test_too_few_sampled_frames_falls_back_to_the_whole_render():
    s = eval_settings(frames=90, skip=8, sample_every=20, preview_frames=12)  # 5 samples
    picks = preview_indices(s, s.fitness.frames)
    assert len(picks) == 12 and picks[0] == 0 and picks[-1] == 89
    assert len(set(picks)) == 12


def test_durations_play_the_picked_frames_at_render_speed():
    picks = [8, 12, 16, 24, 28]
    got = preview_durations(picks, 60.0)
    assert got[:4] == [67, 67, 133, 67]
    assert got[4] == round(1000 * 5 / 60)  # the last one shows for the mean step
    assert preview_durations([5], 60.0) == [20]  # one frame: the shortest WebP delay we write
