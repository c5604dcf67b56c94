"""What the UI shows of one preset, and its evaluation the way a run would score it.

The UI reads presets only through here (as it reads runs only through ``evo.store``): the
``.milk`` reader, the parameter schema and the renderer stay behind ``evo``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from renderer.milk.inspect import changed_params
from renderer.milk.preset import PresetError, code_text, format_number, parse_milk


@dataclass
class PresetView:
    """One parsed preset as rows and counts; ``error`` (file and line) when it does not parse."""

    name: str
    error: str | None = None
    parameters: list[dict] = field(default_factory=list)  # parameter, value, default, note
    code: list[tuple[str, str]] = field(default_factory=list)  # (section, joined text)
    waves: int = 0  # enabled custom waves
    shapes: int = 0  # enabled custom shapes
    shaders: dict[str, str] = field(default_factory=dict)  # "warp"/"comp" -> HLSL text

    @property
    def has_shaders(self) -> bool:
        return bool(self.shaders)


def view_milk(text: str, name: str) -> PresetView:
    """The rows the Preset page lists: base parameters that differ from MilkDrop's defaults (what
    the author actually chose), each non-empty code section, the shaders."""
    try:
        preset = parse_milk(text, source=name)
    except PresetError as exc:
        return PresetView(name, error=str(exc))
    rows = [{"parameter": k, "value": format_number(v), "default": format_number(d), "note": note}
            for k, v, d, note in changed_params(preset)]
    code = []
    for section, lines in preset.code_sections().items():
        joined = code_text(lines)[0] if lines else ""
        if joined.strip():
            code.append((section, joined))
    shaders = {stage: t for stage, t in (("warp", preset.warp_shader), ("comp", preset.comp_shader)) if t.strip()}
    return PresetView(name, None, rows, code, sum(w.enabled for w in preset.waves),
                      sum(s.enabled for s in preset.shapes), shaders)


def evaluate_milk_file(milk: Path, out_dir: Path, frames: int = 60, size: int = 128) -> dict:
    """Render and score one ``.milk`` file with the engine's own evaluation (so a bred child's
    preview, still and score are what a run would give it) into ``out_dir``: preview.webp,
    still.png and result.json. Creates a GL context: call it in a process of its own."""
    os.environ.setdefault("LP_NUM_THREADS", "0")
    from evo.config import load_config
    from evo.fitness.candidate import evaluate_preset, make_analyzer, make_renderer
    from renderer.output.files import atomic_write_bytes

    text = Path(milk).read_bytes().decode("latin-1")
    try:
        parse_milk(text, source=str(milk))
    except PresetError as exc:
        result = {"error": str(exc), "score": None, "stats": {}}
    else:
        frames = max(8, frames)
        cfg = load_config(None, {"fitness.width": size, "fitness.height": size, "fitness.frames": frames,
                                 "fitness.skip": min(8, frames // 4), "preview.size": size,
                                 "preview.frames": min(48, frames)})
        settings = cfg.eval_settings
        result = evaluate_preset(text, settings, make_renderer(settings), make_analyzer(settings), out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / "result.json", json.dumps(result, default=float, indent=1).encode())
    return result
