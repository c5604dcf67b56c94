"""liandan's MilkDrop renderer: presets, equations, audio and the headless GL pipeline.

    from renderer import Renderer, load_milk
    r = Renderer(128, 128)
    r.load(load_milk("preset.milk"))
    frames = list(r.render(90, audio=None))   # HxWx3 uint8, row 0 = top
"""

from renderer.frame_state import FrameState
from renderer.pipeline import LoadReport, Renderer
from renderer.milk.preset import Preset, PresetError, dump_milk, load_milk, parse_milk, save_milk

__all__ = ["FrameState", "LoadReport", "Preset", "PresetError", "Renderer", "dump_milk", "load_milk",
           "parse_milk", "save_milk"]
