"""Music in: loading a track, MilkDrop's per-frame analysis of it, and the synthetic default.

    from renderer.audio import AudioAnalyzer, open_audio
    levels = AudioAnalyzer(open_audio("song.ogg"), fps=60).levels(600)   # bass, mid, treb, *_att

``open_audio`` decodes only the blocks asked for (memory flat in the track's length);
``load_audio`` reads the whole track into memory (the same samples).
"""

from renderer.audio.analysis import LEVEL_NAMES, AudioAnalyzer, AudioFrame, default_analyzer
from renderer.audio.stream import AudioStream, load_audio, open_audio
from renderer.audio.synth import synthesize, write_wav
from renderer.audio.track import TARGET_RATE, AudioError, AudioTrack, track_from_array

__all__ = ["LEVEL_NAMES", "TARGET_RATE", "AudioAnalyzer", "AudioError", "AudioFrame", "AudioStream", "AudioTrack",
           "default_analyzer", "load_audio", "open_audio", "synthesize", "track_from_array", "write_wav"]
