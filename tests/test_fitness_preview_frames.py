"""evo.fitness preview frames: reuse the frames the statistics read, keep the count and real speed."""

from evo.fitness import EvalSettings, preview_durations, preview_indices, sample_indices, wanted_frames


def test_preview_reuses_sampled_frames_so_only_the_still_is_extra():
    s = EvalSettings()  # 90 frames, samples every 4th from 8: 21 frames, 18 preview frames
    picks = preview_indices(s, s.frames)
    assert len(picks) == s.preview_frames
    assert picks == sorted(set(picks))
    assert set(picks) <= set(sample_indices(s))
    assert picks[0] == sample_indices(s)[0] and picks[-1] == sample_indices(s)[-1]  # the whole span
    assert wanted_frames(s, previews=True) == set(sample_indices(s)) | {s.frames - 1}


def test_too_few_sampled_frames_falls_back_to_the_whole_render():
    s = EvalSettings(frames=90, skip=8, sample_every=20, preview_frames=12)  # 5 samples
    picks = preview_indices(s, s.frames)
    assert len(picks) == 12 and picks[0] == 0 and picks[-1] == 89
    assert len(set(picks)) == 12


def test_durations_play_the_picked_frames_at_render_speed():
    picks = [8, 12, 16, 24, 28]
    got = preview_durations(picks, 60.0)
    assert got[:4] == [67, 67, 133, 67]
    assert got[4] == round(1000 * 5 / 60)  # the last one shows for the mean step
    assert preview_durations([5], 60.0) == [20]  # one frame: the shortest WebP delay we write
