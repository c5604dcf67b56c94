"""Music in: loading a track, MilkDrop's per-frame analysis of it, and the synthetic default.

    from renderer.audio import AudioAnalyzer, load_audio
    levels = AudioAnalyzer(load_audio("song.ogg"), fps=60).levels(600)   # bass, mid, treb, *_att
"""

from renderer.audio.analysis import LEVEL_NAMES, AudioAnalyzer, AudioFrame, default_analyzer
from renderer.audio.synth import synthesize, write_wav
from renderer.audio.track import TARGET_RATE, AudioError, AudioTrack, load_audio, track_from_array

__all__ = ["LEVEL_NAMES", "TARGET_RATE", "AudioAnalyzer", "AudioError", "AudioFrame", "AudioTrack", "default_analyzer",
           "load_audio", "synthesize", "track_from_array", "write_wav"]
