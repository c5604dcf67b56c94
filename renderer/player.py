"""Which player's picture to reproduce: MilkDrop 2 itself, or butterchurn's port of it.

The two draw the same presets slightly differently, in ways that feed back and grow: a VJ
who will show presets in a web player (butterchurn: Webamp, many visualizer sites) wants to see
what that player shows, and a fidelity comparison against butterchurn has to render its
departures to measure the rest. Every difference here was found by rendering probe presets in
both (the fidelity benchmark's reference harness) and reading MilkDrop 2's and butterchurn's
sources; MilkDrop 2 is the default everywhere.

- ``mipmapped_feedback``: butterchurn regenerates mipmaps of the previous frame every frame and
  samples it trilinearly (warp, textured shapes, shader ``sampler_main``), so wherever the warp
  shrinks the picture it is averaged and dimmed. MilkDrop 2 creates its feedback textures with
  one level (plugin.cpp: CreateTexture(..., 1, ...)), so it never blurs that way. Its blur
  pyramid (renderer.shaders.blur) has other sizes (1/2, 1/4, 1/8, 1/16 of the picture) and reads
  through mipmaps too; the first pass reads the new picture's, which were built when that texture
  was last frame's source, so blur1 shows the picture two frames back.
- ``feedback_alpha``: butterchurn's feedback texture is RGBA and alpha-blended drawing leaves
  alpha below 1 there; a textured shape multiplies by that texel alpha. MilkDrop 2's is
  X8R8G8B8: alpha always reads as 1.
- ``motion_vector_widths``: butterchurn's motion vectors longer than a texel keep their height
  and get a one-texel width (``dxi = minLen`` set twice where MilkDrop 2 leaves both alone), so
  they are near-vertical dashes.
- ``byte_waveform``: butterchurn draws 512 samples made from the last 1,024 as WebAudio bytes,
  pair-averaged (AudioAnalyzer.byte_waveform), where MilkDrop 2 draws 480 of its last 576; the
  built-in modes derive their vertex counts from that (renderer.stages.waveform_butterchurn) and
  custom waves take up to 512.
- ``butterchurn_levels``: bass/mid/treb and their averages from butterchurn's analysis of the
  music (renderer.audio.butterchurn_levels), not MilkDrop 2's; levels given with
  ``--audio-levels`` still win. Custom waves that draw the spectrum still get MilkDrop 2's.
- ``float_colors``: custom shape and wave colours stay floats in butterchurn (clamped when
  written, after interpolating across a fan); MilkDrop 2 packs them into Direct3D colours, which
  wrap (1.2 comes out dark).
- ``frame_vars_in_pixel_code``: butterchurn's per-pixel code starts from a copy of everything
  the per-frame code left, its own variables included; MilkDrop 2 runs it in a VM of its own that
  sees only q1-q32, the motion values and the inputs (presets written for it pass values in q).
- ``frame_code_at_load``: butterchurn runs the init code and then the per-frame code once when it
  loads a preset (frame 0, time 0, bass/mid/treb 0, their averages 1) and keeps the variables
  that run leaves, so anything that accumulates (a phase, a counter) is one step ahead on frame
  1. MilkDrop 2 runs only the init code at load.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Player:
    name: str
    mipmapped_feedback: bool = False
    feedback_alpha: bool = False
    motion_vector_widths: bool = False
    frame_code_at_load: bool = False
    byte_waveform: bool = False
    butterchurn_levels: bool = False
    float_colors: bool = False
    frame_vars_in_pixel_code: bool = False


MILKDROP2 = Player("milkdrop2")
BUTTERCHURN = Player("butterchurn", mipmapped_feedback=True, feedback_alpha=True, motion_vector_widths=True,
                     frame_code_at_load=True, byte_waveform=True, butterchurn_levels=True,
                     float_colors=True, frame_vars_in_pixel_code=True)
PLAYERS = {p.name: p for p in (MILKDROP2, BUTTERCHURN)}


def player_of(state) -> Player:
    """The player a stage draws for: ``state.player``, MilkDrop 2 when a state has none."""
    return getattr(state, "player", None) or MILKDROP2


def player_named(name: "str | Player") -> Player:
    """The Player called ``name`` (a Player passes through); a clear error otherwise."""
    if isinstance(name, Player):
        return name
    try:
        return PLAYERS[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown player {name!r}; choose one of {', '.join(PLAYERS)}") from None
